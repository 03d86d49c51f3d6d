"""A responder that plays every conversation role well enough for conversations to finish.

The endpoint sees what a real server sees, the request body and headers, and answers by the
role the product names in its ``X-Button-Role`` header:

- ``assistant``: it calls the next listed function that has no good result yet, with
  arguments generated from the function's ``parameters`` schema (a string argument takes a
  string from the latest result when that still validates, so data flows between steps); once
  every function was called it writes a final answer.
- ``tools``: the tool simulator; a value of the requested ``json_schema``.
- otherwise: the simulated user, who restates the request from its system prompt.

Faults are drawn per request: 429 (with ``Retry-After: 0``), 500, or a garbage answer (a body
that is not JSON, prose where JSON or a call was due, or a reply cut off at the token limit).
``misbehaviour`` plays one of the known misbehaviours of real servers (tests/misbehaviour.py)
in ``rate_misbehaviour`` of the answers.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from tests.fake_endpoint import chat_completion
from tests.misbehaviour import BEHAVIOURS, misbehave
from agents.offline.values import generate_value

USER_TASK_START = "What you want done:\n"


@dataclass(frozen=True)
class Faults:
    """Probabilities per request; they must sum to at most 1."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_garbage: float = 0.0
    misbehaviour: str | None = None
    rate_misbehaviour: float = 0.0

    def __post_init__(self) -> None:
        total = self.rate_429 + self.rate_500 + self.rate_garbage
        if min(self.rate_429, self.rate_500, self.rate_garbage) < 0 or total > 1:
            raise ValueError(f"fault rates must be >= 0 and sum to <= 1, got {self}")
        if not 0 <= self.rate_misbehaviour <= 1 or (self.misbehaviour is not None and self.misbehaviour not in BEHAVIOURS):
            raise ValueError(f"misbehaviour must be one of {sorted(BEHAVIOURS)} with a rate in [0, 1], got {self}")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, extra headers, the raw body, and whether latency applies."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    immediate: bool = False


def _ok(completion: dict[str, Any], body: dict[str, Any]) -> Answer:
    """A 200 answer naming the requested model, as real servers do (AutoGen warns otherwise)."""
    completion["model"] = body.get("model", completion["model"])
    return Answer(200, json.dumps(completion).encode())


def _rng(body: dict[str, Any]) -> random.Random:
    """Same request, same answer: the generator is seeded by the request's content."""
    digest = hashlib.blake2b(json.dumps(body["messages"], sort_keys=True).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


@lru_cache(maxsize=4096)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _called(messages: list[dict[str, Any]]) -> list[str]:
    """Functions whose call got a result that is not the environment's error feedback."""
    answered = {
        m.get("tool_call_id") for m in messages if m["role"] == "tool" and not str(m.get("content")).startswith(("Error:", "Not run:"))
    }
    return [
        call["function"]["name"]
        for m in messages
        if m["role"] == "assistant"
        for call in m.get("tool_calls") or []
        if call.get("id") in answered
    ]


def _latest_strings(messages: list[dict[str, Any]]) -> list[str]:
    """String values of the most recent tool result, for the next call's arguments."""
    for message in reversed(messages):
        if message["role"] == "tool":
            try:
                result = json.loads(message["content"])
            except (json.JSONDecodeError, TypeError):
                return []
            if isinstance(result, dict):
                return [value for value in result.values() if isinstance(value, str)]
            return []
    return []


def _arguments(parameters: dict[str, Any], rng: random.Random, upstream: list[str]) -> dict[str, Any]:
    arguments = generate_value(parameters, rng)
    if not isinstance(arguments, dict) or not upstream:
        return arguments if isinstance(arguments, dict) else {}
    validator = _validator(json.dumps(parameters, sort_keys=True))
    for name, value in list(arguments.items()):
        if isinstance(value, str):
            for candidate in upstream:
                trial = {**arguments, name: candidate}
                if validator.is_valid(trial):
                    arguments = trial
                    break
    return arguments


def assistant(body: dict[str, Any]) -> dict[str, Any]:
    messages = body["messages"]
    called = set(_called(messages))
    for tool in body["tools"]:
        function = tool["function"]
        if function["name"] not in called:
            arguments = _arguments(function.get("parameters") or {}, _rng(body), _latest_strings(messages))
            return chat_completion(
                f"Next I need {function['name']}.", [{"name": function["name"], "arguments": arguments}]
            )
    facts = ", ".join(_latest_strings(messages)[:3]) or "the results above"
    return chat_completion(f"Here is what I found: {facts}. That completes your request.")


def tool_simulator(body: dict[str, Any]) -> dict[str, Any]:
    schema = body["response_format"]["json_schema"].get("schema") or {}
    return chat_completion(json.dumps(generate_value(schema, _rng(body))))


def user(body: dict[str, Any]) -> dict[str, Any]:
    if any(m["role"] == "assistant" for m in body["messages"]):
        return chat_completion("I only know what I already told you; please go ahead with that.")
    system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
    start = system.find(USER_TASK_START)
    task = system[start + len(USER_TASK_START) :].split("\n\n", 1)[0].strip() if start >= 0 else "Please help me."
    return chat_completion(f"Hi! {task}")


def play(body: dict[str, Any], role: str) -> dict[str, Any]:
    """The well-behaved answer to a chat-completions request, by the role that asked."""
    if role == "assistant":
        return assistant(body)
    if role == "tools":
        return tool_simulator(body)
    return user(body)


def garbage(body: dict[str, Any], rng: random.Random) -> Answer:
    kind = rng.randrange(3)
    if kind == 0:
        return Answer(200, b"<html><body>upstream hiccup</body></html>")
    if kind == 1:
        return _ok(chat_completion("Sure, happy to help with that"), body)
    return _ok(chat_completion('{"partial": "cut o', finish_reason="length"), body)


def respond(body: dict[str, Any], faults: Faults, rng: random.Random, role: str = "") -> Answer:
    """A fault drawn from ``rng`` at the configured rates, else the role's answer (which may
    misbehave)."""
    draw = rng.random()
    if draw < faults.rate_429:
        error = {"error": {"message": "rate limit reached", "type": "rate_limit_error"}}
        return Answer(429, json.dumps(error).encode(), (("Retry-After", "0"),), immediate=True)
    draw -= faults.rate_429
    if draw < faults.rate_500:
        return Answer(500, json.dumps({"error": {"message": "internal error", "type": "server_error"}}).encode())
    draw -= faults.rate_500
    if draw < faults.rate_garbage:
        return garbage(body, rng)
    completion = play(body, role)
    if faults.misbehaviour and rng.random() < faults.rate_misbehaviour:
        completion = misbehave(faults.misbehaviour, completion, body, rng) or completion
    return _ok(completion, body)
