"""Loopback responders for whole runs: every bottom-up stage plus an LLM user and assistant.

:class:`PipelineResponder` answers a full ``model=openai`` run (with ``agents/tool=schema``):
stage requests by their response schema, the user with a plain request, and the assistant
(native protocol) by calling the task's functions in order, each with a value from the result
before it, then answering. :class:`Faults` puts endpoint misbehaviour in front of it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fake_endpoint import Reply, chat_completion
from agents.offline.values import generate_value
from agents.protocol import render_calls, render_final
from llm_responders import StageResponder, schema_name, user_text
from llm_role_responders import Roles, seen_results

Responder = Callable[[dict[str, Any]], Reply]


_TOOL_LIST = re.compile(r"<tool>(.*?)</tool>", re.DOTALL)


def _results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every result object so far, oldest first (llm_role_responders.seen_results, both protocols)."""
    return [result for result in seen_results(body) if isinstance(result, dict)]


_NAMED = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+)\b")


def _named_by_user(body: dict[str, Any]) -> str:
    """The first name the user's opening turn mentions mid-sentence (what a grounded first call uses)."""
    opening = next((m["content"] for m in body["messages"] if m["role"] == "user"), "")
    found = _NAMED.search(opening if isinstance(opening, str) else "")
    return found.group(1) if found else "Paris"


def _last_value(body: dict[str, Any]) -> str:
    """A value from the latest tool result, so the final answer uses what was found; before any
    result, a name the user said."""
    for result in reversed(_results(body)):
        scalars = [v for v in result.values() if isinstance(v, (str, int, float))]
        if scalars:
            return str(scalars[0])
    return _named_by_user(body)


def _argument(body: dict[str, Any], name: str) -> str:
    """The latest result field named like the parameter (producer outputs line up with consumer
    inputs), else the latest value, else a city."""
    for result in reversed(_results(body)):
        if name in result:
            return str(result[name])
    return _last_value(body)


def offered_tools(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The functions the assistant was given: native tools in the request, else the tags prompt's list."""
    if body.get("tools"):
        return [tool["function"] for tool in body["tools"]]
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    found = _TOOL_LIST.search(system) if "<call>" in system else None
    return json.loads(found.group(1)) if found else []


def _answered(body: dict[str, Any]) -> int:
    """How many calls got a result that is not an error (failed calls are made again)."""
    count = 0
    for message in body["messages"]:
        content = message.get("content")
        if message["role"] == "tool" and isinstance(content, str):
            count += not content.startswith(("Error:", "Not run:"))
        elif message["role"] == "user" and isinstance(content, str) and content.startswith("[{"):
            try:
                entries = json.loads(content)
            except json.JSONDecodeError:
                continue
            count += sum(1 for entry in entries if isinstance(entry, dict) and "results" in entry)
    return count


def assistant(body: dict[str, Any], tools: list[dict[str, Any]], tags: bool) -> Reply:
    """Call the functions one per turn, in order, then give a final answer."""
    turn = _answered(body)
    if turn < len(tools):
        spec = tools[turn]
        call = {"name": spec["name"], "arguments": {name: _argument(body, name) for name in spec["parameters"].get("required", [])}}
        if tags:
            return Reply(chat_completion(render_calls("I will look this up.", [call]), model=body["model"]))
        return Reply(chat_completion(None, [call], model=body["model"]))
    answer = f"Here is what I found: {_last_value(body)}."
    return Reply(chat_completion(render_final("I have what I need.", answer) if tags else answer, model=body["model"]))


def any_assistant(body: dict[str, Any]) -> Reply:
    """The assistant of either protocol: native tools in the request, else the tags prompt's list."""
    return assistant(body, offered_tools(body), tags=not body.get("tools"))


def tool_simulator(body: dict[str, Any]) -> Reply:
    """A value of the requested ``responses`` schema, the same for the same request."""
    schema = body["response_format"]["json_schema"]["schema"]
    rng = random.Random(_digest(json.dumps(body["messages"], sort_keys=True)))
    return Reply(chat_completion(json.dumps(generate_value(schema, rng)), model=body["model"]))


def user(body: dict[str, Any]) -> Reply:
    """A request that names the value the assistant's first call uses, so its arguments are grounded."""
    return Reply(chat_completion("Could you look that up for me, please? It is about Paris.", model=body["model"]))


@dataclass
class PipelineResponder:
    """Answers every request of a full run; ``latency`` seconds each."""

    latency: float = 0.0
    stages: StageResponder = field(default_factory=StageResponder)

    def __call__(self, body: dict[str, Any]) -> Reply:
        reply = Roles(assistant=any_assistant, tool=tool_simulator, user=user, judge=self.stages)(body)
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
