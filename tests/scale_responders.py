"""Loopback responders for whole runs: every bottom-up stage plus an LLM user and assistant.

:class:`PipelineResponder` answers a full ``model=openai`` run (with ``agents/tool=schema``):
stage requests by their response schema, the user with a plain request, and the assistant
(native protocol) by calling the task's functions in order, each with a value from the result
before it, then answering. :class:`Faults` puts endpoint misbehaviour in front of it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents.loopback_server import Reply, chat_completion
from llm_responders import DEFAULT_ANSWERS, StageResponder, schema_name, user_text

Responder = Callable[[dict[str, Any]], Reply]


def _last_value(body: dict[str, Any]) -> str:
    """A value from the latest tool result, so consumers use what producers returned."""
    for message in reversed(body["messages"]):
        if message["role"] == "tool":
            try:
                result = json.loads(message["content"])
            except (TypeError, json.JSONDecodeError):
                return "unknown"
            values = [v for v in result.values() if isinstance(v, (str, int, float))] if isinstance(result, dict) else []
            return str(values[0]) if values else "unknown"
    return "Paris"


def assistant(body: dict[str, Any]) -> Reply:
    """Call the functions one per turn, in order, then give a final answer."""
    turn = sum(1 for message in body["messages"] if message["role"] == "assistant")
    tools = [tool["function"] for tool in body.get("tools", [])]
    if turn < len(tools):
        spec = tools[turn]
        value = _last_value(body)
        arguments = {name: value for name in spec["parameters"].get("required", [])}
        return Reply(chat_completion(None, [{"name": spec["name"], "arguments": arguments}], model=body["model"]))
    return Reply(chat_completion(f"Here is what I found: {_last_value(body)}.", model=body["model"]))


def user(body: dict[str, Any]) -> Reply:
    return Reply(chat_completion("Could you look that up for me, please?", model=body["model"]))


@dataclass
class PipelineResponder:
    """Answers every request of a full run; ``latency`` seconds each."""

    latency: float = 0.0
    stages: StageResponder = field(default_factory=StageResponder)

    def __call__(self, body: dict[str, Any]) -> Reply:
        if schema_name(body) in DEFAULT_ANSWERS:
            reply = self.stages(body)
        elif body.get("tools"):
            reply = assistant(body)
        else:
            reply = user(body)
        reply.delay = max(reply.delay, self.latency)
        return reply


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


@dataclass
class Faults:
    """Misbehaves in front of ``inner``: by request count (transient, so retries succeed) and
    by content (permanent for that item, so it must end as a recorded rejection).

    Every ``rate_limit_every``-th request gets 429 with Retry-After, every ``error_every``-th a
    500, every ``garbage_every``-th a body that is not JSON, every ``slow_every``-th waits
    ``slow`` seconds (past the client's timeout). Atomic-task requests whose material hashes
    to 0 mod ``truncate_one_in`` are always cut off (finish_reason length), and filter requests
    hashing to 0 mod ``broken_one_in`` always get garbage.
    """

    inner: Responder
    rate_limit_every: int = 10
    error_every: int = 7
    garbage_every: int = 12
    slow_every: int = 0
    slow: float = 0.0
    truncate_one_in: int = 4
    broken_one_in: int = 5
    served: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.served += 1
            number = self.served
        name = schema_name(body)
        material = user_text(body) if name else ""
        if name == "AtomicTaskDraft" and _digest(material) % self.truncate_one_in == 0:
            self._count("truncated")
            return Reply(chat_completion('{"task": "Who founded', model=body["model"], finish_reason="length"))
        if name == "Verdict" and _digest(material) % self.broken_one_in == 0:
            self._count("broken")
            return Reply("<html>upstream crashed</html>")
        if self.rate_limit_every and number % self.rate_limit_every == 0:
            self._count("429")
            return Reply({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.02"})
        if self.error_every and number % self.error_every == 0:
            self._count("500")
            return Reply({"error": {"message": "boom"}}, status=500)
        if self.garbage_every and number % self.garbage_every == 0:
            self._count("garbage")
            return Reply("this is not json {")
        if self.slow_every and number % self.slow_every == 0:
            self._count("slow")
            reply = self.inner(body)
            reply.delay = self.slow
            return reply
        return self.inner(body)
