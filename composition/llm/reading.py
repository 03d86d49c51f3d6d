"""The one reader of every model answer: raw completion in, clean content and a finish state out.

Real servers misbehave in known ways, and every role and LLM stage reads answers through
:func:`read_answer` so each repair is made once, the same way:

- reasoning: ``<think>...</think>`` blocks (or a leading text closed by a lone ``</think>``,
  or an opening ``<think>`` never closed) and the server's ``reasoning_content`` (AutoGen's
  ``CreateResult.thought`` on a text answer; beside tool calls the wire's note) are set aside
  in ``reasoning``; none of it stays in ``text``;
- calls written as text, when the server has no tool parser: Hermes/Qwen
  ``<tool_call>{...}</tool_call>``, Llama 3.1 JSON with ``parameters`` (optionally after
  ``<|python_tag|>``), Mistral ``[TOOL_CALLS][...]`` or ``[TOOL_CALLS]name[ARGS]{...}``;
  they become calls, and markup that cannot be read is ``bad_markup``, never an answer;
- call ids: missing, empty or already used ids are replaced (see :class:`CallIds`);
- finish: ``length`` (cut off), ``refusal`` (the ``refusal`` field or a content filter),
  ``empty`` (nothing usable), ``bad_markup``, else ``calls`` or ``stop``.

:func:`json_text` recovers a JSON value from fences or prose when ``response_format`` was ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from autogen_core import FunctionCall
from autogen_core.models import CreateResult

from composition.llm.wire import Exchange

Finish = Literal["stop", "calls", "length", "refusal", "empty", "bad_markup"]

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_HERMES = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.DOTALL)
_MISTRAL = "[TOOL_CALLS]"
_MISTRAL_ARGS = re.compile(r"\[TOOL_CALLS\]\s*([A-Za-z_][\w.-]*)\s*\[ARGS\]", re.DOTALL)
_PYTHON_TAG = "<|python_tag|>"
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


class CallMarkupError(ValueError):
    """Call markup in a text answer that does not hold readable calls."""


@dataclass
class Reading:
    """One answer, cleaned. ``text`` is the answer, or the visible thought beside calls."""

    text: str = ""
    calls: list[FunctionCall] = field(default_factory=list)
    reasoning: str = ""
    finish: Finish = "stop"
    refusal: str = ""
    problem: str = ""
    repairs: list[str] = field(default_factory=list)


def strip_reasoning(text: str) -> tuple[str, str]:
    """``(text without reasoning, the reasoning)``; handles closed, lone-closing and open blocks."""
    parts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        parts.append(match.group(2).strip())
        return ""

    text = _THINK_BLOCK.sub(keep, text)
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:  # the server ate the opening tag: everything before the last close was reasoning
        parts.insert(0, _THINK_CLOSE.sub("", text[: closes[-1].start()]).strip())
        text = text[closes[-1].end() :]
    opening = _THINK_OPEN.search(text)
    if opening:  # never closed: cut off while reasoning
        parts.append(text[opening.end() :].strip())
        text = text[: opening.start()]
    return text.strip(), "\n\n".join(part for part in parts if part)


def _call(value: Any, arguments_key: str = "arguments") -> FunctionCall:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise CallMarkupError('a call must be a JSON object with "name" and "arguments"')
    arguments = value.get(arguments_key, value.get("arguments", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except json.JSONDecodeError as error:
            raise CallMarkupError(f"arguments of {value['name']} are not JSON: {error.msg}") from None
    return FunctionCall(id=str(value.get("id") or ""), name=value["name"], arguments=json.dumps(arguments))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CallMarkupError(f"the call markup does not hold JSON: {error.msg}") from None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def calls_in_text(text: str) -> tuple[str, list[FunctionCall]]:
    """``(text outside the calls, calls)`` for the text-call formats servers emit; no markup: no calls.

    Raises CallMarkupError when markup is there but its calls cannot be read.
    """
    if "<tool_call>" in text:
        calls = [_call(item) for block in _HERMES.findall(text) for item in _listed(_json(block.strip()))]
        return _HERMES.sub("", text).strip(), calls
    if _MISTRAL in text:
        before, _, after = text.partition(_MISTRAL)
        named = _MISTRAL_ARGS.search(text)
        try:
            if named:
                value, _ = json.JSONDecoder().raw_decode(text[named.end() :].lstrip())
                return before.strip(), [_call({"name": named.group(1), "arguments": value})]
            value, _ = json.JSONDecoder().raw_decode(after.lstrip())
        except json.JSONDecodeError as error:
            raise CallMarkupError(f"the [TOOL_CALLS] calls are not JSON: {error.msg}") from None
        return before.strip(), [_call(item) for item in _listed(value)]
    candidate = text.strip()
    tagged = candidate.startswith(_PYTHON_TAG)
    if tagged:
        candidate = candidate[len(_PYTHON_TAG) :].strip()
    if candidate.startswith("{") and '"parameters"' in candidate:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            if tagged:
                raise CallMarkupError("the <|python_tag|> call is not JSON") from None
            return text, []
        if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("parameters"), dict):
            return "", [_call(value, "parameters")]
    if tagged:
        raise CallMarkupError("<|python_tag|> is not followed by a JSON call")
    return text, []


class CallIds:
    """Gives every call of a conversation a unique, non-empty id, keeping good ones as they are.

    The repaired id is the one the assistant's history, the tool results and the record use,
    so a turn and its results stay consistent.
    """

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next = 0

    def _fresh(self) -> str:
        while True:
            self._next += 1
            candidate = f"call_{self._next}"
            if candidate not in self._used:
                return candidate

    def repair(self, calls: list[FunctionCall]) -> tuple[list[FunctionCall], bool]:
        repaired: list[FunctionCall] = []
        changed = False
        for call in calls:
            call_id = call.id if isinstance(call.id, str) else ""
            if not call_id.strip() or call_id in self._used:
                call_id = self._fresh()
                changed = True
            self._used.add(call_id)
            repaired.append(FunctionCall(id=call_id, name=call.name, arguments=call.arguments))
        return repaired, changed


def read_answer(
    result: CreateResult, exchange: Exchange | None = None, ids: CallIds | None = None, *, calls_in_text_ok: bool = True
) -> Reading:
    """Clean ``result``; ``ids`` (one per conversation) repairs call ids, ``exchange`` gives the refusal."""
    reading = Reading()
    if isinstance(result.content, list):
        reading.calls = list(result.content)
        visible = result.thought or ""
        reading.reasoning = exchange.reasoning.strip() if exchange is not None else ""
    else:
        visible = result.content or ""
        reading.reasoning = (result.thought or "").strip()
    visible, stripped = strip_reasoning(visible)
    if stripped:
        reading.reasoning = "\n\n".join(part for part in (reading.reasoning, stripped) if part)
        reading.repairs.append("reasoning_block")
    if not reading.calls and calls_in_text_ok:
        try:
            visible, reading.calls = calls_in_text(visible)
        except CallMarkupError as error:
            reading.problem = str(error)
        if reading.calls:
            reading.repairs.append("calls_in_text")
    reading.text = visible
    if ids is not None and reading.calls:
        reading.calls, changed = ids.repair(reading.calls)
        if changed:
            reading.repairs.append("call_ids")
    reading.refusal = exchange.refusal if exchange is not None else ""
    reading.finish = _finish(result, reading, exchange)
    return reading


def _finish(result: CreateResult, reading: Reading, exchange: Exchange | None) -> Finish:
    if result.finish_reason == "length" or (exchange is not None and exchange.finish_reason == "length"):
        return "length"
    if reading.problem:
        return "bad_markup"
    if reading.calls:
        return "calls"
    if reading.refusal or result.finish_reason == "content_filter":
        return "refusal"
    if not reading.text:
        return "empty"
    return "stop"


def json_text(text: str) -> str:
    """The JSON in an answer: the whole text, else a fenced block, else the first value in prose.

    Returns ``text`` unchanged when nothing parses, so the caller reports it as invalid JSON.
    """
    stripped = text.strip()
    try:
        json.loads(stripped)
        return stripped
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(text):
        try:
            json.loads(block.strip())
            return block.strip()
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            _, end = decoder.raw_decode(text[match.start() :])
        except json.JSONDecodeError:
            continue
        return text[match.start() : match.start() + end]
    return text
