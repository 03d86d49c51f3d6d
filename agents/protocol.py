"""The paper's text protocol for function calls: ``<call>[...]</call>`` and ``<final>...</final>``.

An assistant turn is a free-text thought followed by exactly one of
``<call>[{"name": ..., "arguments": {...}}, ...]</call>`` or ``<final>answer</final>``.
Rendering and parsing live together so the exporter writes exactly what the parser reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_CALL = re.compile(r"<call>(.*?)</call>", re.DOTALL)
_FINAL = re.compile(r"<final>(.*?)</final>", re.DOTALL)
_ANY_TAG = re.compile(r"</?(call|final)>")


class ProtocolError(ValueError):
    """An assistant turn that does not follow the tag protocol; ``code`` names the problem."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class TaggedTurn:
    thought: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    final: str | None = None


def render_calls(thought: str, calls: list[dict[str, Any]]) -> str:
    """``calls`` are ``{"name", "arguments"}`` dicts with arguments as objects."""
    payload = json.dumps([{"name": c["name"], "arguments": c["arguments"]} for c in calls], ensure_ascii=False)
    return f"{thought}\n<call>{payload}</call>".lstrip()


def render_final(thought: str, answer: str) -> str:
    return f"{thought}\n<final>{answer}</final>".lstrip()


def parse_turn(text: str) -> TaggedTurn:
    """Split a turn into thought and either calls or a final answer, or raise ProtocolError."""
    calls_found = _CALL.findall(text)
    finals_found = _FINAL.findall(text)
    if calls_found and finals_found:
        raise ProtocolError("call_and_final", "a turn holds both <call> and <final>; use one")
    if len(calls_found) > 1 or len(finals_found) > 1:
        raise ProtocolError("repeated_tag", "put all calls of a turn in one <call> list")
    thought = _ANY_TAG.split(text, maxsplit=1)[0].strip()
    if finals_found:
        answer = finals_found[0].strip()
        if not answer:
            raise ProtocolError("empty_final", "the <final> answer is empty")
        return TaggedTurn(thought=thought, final=answer)
    if not calls_found:
        raise ProtocolError("no_tag", "a turn must end with <call>[...]</call> or <final>...</final>")
    try:
        calls = json.loads(calls_found[0])
    except json.JSONDecodeError as error:
        raise ProtocolError("invalid_json", f"the <call> list is not valid JSON: {error.msg}") from None
    if isinstance(calls, dict):
        calls = [calls]
    if not isinstance(calls, list) or not calls:
        raise ProtocolError("empty_call", "<call> must hold a non-empty JSON list of calls")
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ProtocolError("bad_call", 'each call must be {"name": ..., "arguments": {...}}')
        arguments = call.setdefault("arguments", {})
        if not isinstance(arguments, dict):
            raise ProtocolError("bad_arguments", f"arguments of {call['name']} must be a JSON object")
    return TaggedTurn(thought=thought, calls=calls)
