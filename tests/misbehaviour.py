"""Known misbehaviours of real OpenAI-compatible servers, played on top of any well-formed answer.

:func:`misbehave` rewrites one chat.completion the way a real server gets it wrong (reasoning
models, vLLM without a tool parser, servers that ignore ``response_format``, ...); it returns
None when the behaviour has nothing to change in that answer. :class:`Misbehave` wraps a
responder of the fake endpoint (tests/fake_endpoint.py) and plays one behaviour in ``rate``
of the answers, drawn from the request's content, so the same request misbehaves the same way
and a retry (which carries feedback, so its content differs) draws again. The benchmark's
child-process endpoint (benchmarks/roles.py) calls :func:`misbehave` too.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Completion = dict[str, Any]

REASONING = "The user wants this done. I should check what is known first and then decide.\nOkay, let me answer."


def _message(completion: Completion) -> dict[str, Any]:
    return completion["choices"][0]["message"]


def _finish(completion: Completion, reason: str) -> None:
    completion["choices"][0]["finish_reason"] = reason


def _calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return message.get("tool_calls") or []


def _arguments(call: dict[str, Any]) -> dict[str, Any]:
    return json.loads(call["function"]["arguments"] or "{}")


_TAG_CALL = re.compile(r"<call>(.*?)</call>", re.DOTALL)
_TAG_TOOLS = re.compile(r"<tool>(.*?)</tool>", re.DOTALL)


def _as_native(message: dict[str, Any]) -> bool:
    """In the tags protocol the calls are text; lift them into tool_calls so one rewrite serves
    both protocols (``_as_tags`` puts them back). False when the answer holds no calls."""
    content = message.get("content") or ""
    found = _TAG_CALL.search(content)
    if _calls(message) or not found:
        return bool(_calls(message))
    message["content"] = content[: found.start()].strip()
    message["tool_calls"] = [
        {"id": f"tag_{index}", "type": "function", "function": {"name": call["name"], "arguments": json.dumps(call["arguments"])}}
        for index, call in enumerate(json.loads(found.group(1)))
    ]
    message["_tags"] = True
    return True


def _as_tags(message: dict[str, Any]) -> None:
    if not message.pop("_tags", False):
        return
    calls = [{"name": c["function"]["name"], "arguments": json.loads(c["function"]["arguments"])} for c in _calls(message)]
    message["content"] = f"{message.get('content') or ''}\n<call>{json.dumps(calls)}</call>".strip()
    message["tool_calls"] = None


def _declared(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The functions the request offers: native tools, or the tags prompt's ``<tool>`` list."""
    if request.get("tools"):
        return [tool["function"] for tool in request["tools"]]
    system = next((m.get("content") or "" for m in request.get("messages", []) if m["role"] == "system"), "")
    found = _TAG_TOOLS.search(system)
    return json.loads(found.group(1)) if found else []


def _reasoning(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    variant = rng.randrange(3)
    if variant == 2:
        message["reasoning_content"] = REASONING
        return True
    before = f"<think>\n{REASONING}\n</think>\n\n" if variant == 0 else f"{REASONING}\n</think>\n\n"
    message["content"] = before + (message.get("content") or "")
    return True


def _fences(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    content = message.get("content")
    if _calls(message) or not isinstance(content, str):
        return False
    try:
        json.loads(content)
    except json.JSONDecodeError:
        return False
    message["content"] = f"Sure, here is the JSON you asked for:\n```json\n{content}\n```\nTell me if you need anything else."
    return True


def _calls_in_text(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    _as_native(message)
    message.pop("_tags", None)  # the calls leave the protocol's tags for a model's own markup
    calls = [{"name": c["function"]["name"], "arguments": _arguments(c)} for c in _calls(message)]
    if not calls:
        return False
    thought = message.get("content") or ""
    variant = rng.randrange(3) if len(calls) == 1 else rng.choice([0, 2])
    if variant == 0:  # Hermes / Qwen
        text = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)
        message["content"] = f"{thought}\n{text}".strip()
    elif variant == 1:  # Llama 3.1: the whole answer is the call
        message["content"] = json.dumps({"name": calls[0]["name"], "parameters": calls[0]["arguments"]})
    else:  # Mistral
        message["content"] = f"{thought}[TOOL_CALLS]{json.dumps(calls)}"
    message["tool_calls"] = None
    _finish(completion, "stop")
    return True


def _missing_id(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    calls = _calls(_message(completion))
    for call in calls:
        del call["id"]
    return bool(calls)


def _duplicate_id(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    calls = _calls(_message(completion))
    same = rng.choice(["", "call_0"])  # empty, or the same id in every turn (and every call)
    for call in calls:
        call["id"] = same
    return bool(calls)


def _bad_arguments(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    """Numbers written as strings where there are numbers, else an undeclared key."""
    calls = _calls(_message(completion))
    if not calls:
        return False
    call = calls[0]
    arguments = _arguments(call)
    numbers = [key for key, value in arguments.items() if isinstance(value, (int, float)) and not isinstance(value, bool)]
    if numbers and rng.random() < 0.5:
        arguments = {key: str(value) if key in numbers else value for key, value in arguments.items()}
    else:
        arguments["verbose"] = True
    call["function"]["arguments"] = json.dumps(arguments)
    return True


def _missing_required(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    calls = _calls(_message(completion))
    declared = {spec["name"]: spec.get("parameters") or {} for spec in _declared(request)}
    for call in calls:
        required = declared.get(call["function"]["name"], {}).get("required") or []
        arguments = _arguments(call)
        present = [key for key in required if key in arguments]
        if present:
            del arguments[present[0]]
            call["function"]["arguments"] = json.dumps(arguments)
            return True
    return False


def _length(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    calls = _calls(message)
    if calls:
        text = calls[0]["function"]["arguments"]
        calls[0]["function"]["arguments"] = text[: max(1, len(text) // 2)]
    else:
        text = message.get("content") or ""
        if not text:
            return False
        message["content"] = text[: len(text) // 2]
    _finish(completion, "length")
    return True


def _refusal(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    message.update(content=None, tool_calls=None, refusal="I'm sorry, but I can't help with that request.")
    _finish(completion, "stop")
    return True


def _empty(completion: Completion, request: dict[str, Any], rng: random.Random) -> bool:
    message = _message(completion)
    message.update(content="", tool_calls=None)
    _finish(completion, "stop")
    return True


BEHAVIOURS: dict[str, Callable[[Completion, dict[str, Any], random.Random], bool]] = {
    "reasoning": _reasoning,
    "fences": _fences,
    "calls_in_text": _calls_in_text,
    "missing_id": _missing_id,
    "duplicate_id": _duplicate_id,
    "bad_arguments": _bad_arguments,
    "missing_required": _missing_required,
    "length": _length,
    "refusal": _refusal,
    "empty": _empty,
}


#: Behaviours that rewrite calls; in the tags protocol they act on the ``<call>`` list
#: (which has no ids, so the id behaviours do not apply there).
ON_CALLS = frozenset({"calls_in_text", "missing_id", "duplicate_id", "bad_arguments", "missing_required"})


def draw(request: dict[str, Any], behaviour: str, seed: int) -> random.Random:
    """A generator seeded by the request's content: same request, same misbehaviour."""
    text = json.dumps([seed, behaviour, request.get("messages")], sort_keys=True)
    return random.Random(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big"))


def misbehave(behaviour: str, completion: Completion, request: dict[str, Any], rng: random.Random) -> Completion | None:
    """``completion`` rewritten by ``behaviour`` (a copy), or None when it does not apply."""
    if behaviour not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour {behaviour!r}; known: {', '.join(BEHAVIOURS)}")
    changed = copy.deepcopy(completion)
    message = _message(changed)
    if behaviour in ON_CALLS and not _as_native(message):
        return None
    if message.get("_tags") and behaviour in ("missing_id", "duplicate_id"):
        return None  # the tags protocol has no ids; the reader numbers them
    applied = BEHAVIOURS[behaviour](changed, request, rng)
    _as_tags(message)
    return changed if applied else None


@dataclass
class Misbehave:
    """Plays ``behaviour`` in ``rate`` of the answers of ``inner`` (a fake-endpoint responder)."""

    inner: Callable[[dict[str, Any]], Any]
    behaviour: str
    rate: float = 0.3
    seed: int = 0
    played: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {self.behaviour!r}; known: {', '.join(BEHAVIOURS)}")

    def __call__(self, request: dict[str, Any]) -> Any:
        reply = self.inner(request)
        if reply.status != 200 or isinstance(reply.body, str):
            return reply
        rng = draw(request, self.behaviour, self.seed)
        if rng.random() >= self.rate:
            return reply
        changed = misbehave(self.behaviour, reply.body, request, rng)
        if changed is not None:
            reply.body = changed
            with self._lock:
                self.played[self.behaviour] += 1
        return reply
