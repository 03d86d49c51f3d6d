"""A scripted chat-completions responder for the LLM bottom-up stages.

It reads what a real endpoint would: the ``response_format`` schema name says which stage is
asking, and the user turn holds the material. Answers are valid JSON derived from that material,
so different inputs give different (non-duplicate) outputs. Tests push special replies (broken
JSON, refusals, HTTP errors, ...) in front of the defaults with :meth:`StageResponder.push`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

from fake_endpoint import Reply, chat_completion

Answer = Callable[[dict[str, Any]], Any]


def schema_name(body: dict[str, Any]) -> str:
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("name", "")


def user_text(body: dict[str, Any]) -> str:
    """The first user turn: the stage's material (later turns are feedback on retries)."""
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def tag(text: str) -> str:
    """A short word made of letters only, unique per text (task texts must not look like tool names)."""
    digest = hashlib.sha256(text.encode()).digest()
    return "".join("bcdfghjklmnpqrstvwxz"[byte % 20] + "aeiou"[byte % 5] for byte in digest[:3]).capitalize()


def scenario(body: dict[str, Any]) -> dict[str, Any]:
    return {"scenario": f"A traveller called {tag(user_text(body))} plans a trip and needs facts."}


def new_scenarios(body: dict[str, Any]) -> dict[str, Any]:
    count = int(re.search(r"exactly (\d+) scenarios", body["messages"][0]["content"]).group(1))
    base = user_text(body)
    return {"scenarios": [f"A student called {tag(base + str(i))} prepares a report on a city." for i in range(count)]}


def atomic_task(body: dict[str, Any]) -> dict[str, Any]:
    name = tag(user_text(body))
    return {"task": f"Who founded the company {name} Limited?", "answer": f"the founder of {name} Limited"}


def composition(body: dict[str, Any]) -> dict[str, Any]:
    material = user_text(body)
    count = int(re.search(r"Write (\d+) new sub-task", material).group(1))
    name = tag(material)
    new = [f"In which year was that person number {i + 1} of {name} born?" for i in range(count)]
    return {"new_tasks": new, "composed_task": f"Tell me about the founder of {name} Limited and their birth year."}


def verdict(body: dict[str, Any]) -> dict[str, Any]:
    return {"solves": True, "reason": "The sub-tasks answer the task."}


def function(name: str, takes: list[str], gives: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"Looks up {gives} from {' and '.join(takes)}.",
        "parameters": {
            "type": "object",
            "properties": {key: {"type": "string", "description": f"The {key}."} for key in takes},
            "required": takes,
        },
        "responses": {
            "type": "object",
            "properties": {gives: {"type": "string", "description": f"The {gives}."}},
        },
    }


_SUBTASK = re.compile(r"^(\d+)\. .*?(?:\(uses the result of ([\d, ]+)\))?$", re.MULTILINE)


def function_plan(body: dict[str, Any]) -> dict[str, Any]:
    """One function per sub-task; a consumer's parameters are its producers' response fields."""
    tasks = []
    for number, producers in _SUBTASK.findall(user_text(body)):
        takes = [f"value_{p.strip()}" for p in producers.split(",") if p.strip()] or ["value_0"]
        tasks.append({"task": int(number), "functions": [function(f"lookup_step_{number}", takes, f"value_{number}")]})
    return {"tasks": tasks}


DEFAULT_ANSWERS: dict[str, Answer] = {
    "ExtractedScenario": scenario,
    "NewScenarios": new_scenarios,
    "AtomicTaskDraft": atomic_task,
    "CompositionDraft": composition,
    "Verdict": verdict,
    "FunctionPlan": function_plan,
}


def json_reply(body: dict[str, Any], value: Any) -> Reply:
    return Reply(chat_completion(json.dumps(value), model=body["model"], prompt_tokens=20, completion_tokens=10))


def text_reply(text: str, finish_reason: str = "stop") -> Callable[[dict[str, Any]], Reply]:
    return lambda body: Reply(chat_completion(text, model=body["model"], finish_reason=finish_reason))


def refusal_reply(body: dict[str, Any]) -> Reply:
    completion = chat_completion(None, model=body["model"])
    completion["choices"][0]["message"]["refusal"] = "I can't help with that."
    return Reply(completion)


def error_reply(status: int) -> Callable[[dict[str, Any]], Reply]:
    return lambda body: Reply({"error": {"message": f"status {status}"}}, status=status, headers={"retry-after-ms": "5"})


class StageResponder:
    """Answers each stage by schema name; pushed replies for a stage are used first, in order."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = dict(DEFAULT_ANSWERS)
        self.pending: dict[str, deque[Callable[[dict[str, Any]], Reply]]] = defaultdict(deque)
        self.seen: list[str] = []

    def push(self, stage: str, *replies: Callable[[dict[str, Any]], Reply]) -> None:
        self.pending[stage].extend(replies)

    def __call__(self, body: dict[str, Any]) -> Reply:
        name = schema_name(body)
        self.seen.append(name)
        if self.pending[name]:
            return self.pending[name].popleft()(body)
        if name not in self.answers:
            return Reply({"error": {"message": f"no scripted answer for schema {name!r}"}}, status=400)
        return json_reply(body, self.answers[name](body))
