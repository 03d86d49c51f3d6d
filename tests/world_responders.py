"""Loopback LLM roles that behave like a decent model over world-backed tools.

The assistant sees only what the product sends it: the functions, the sub-task list in its
system prompt, the user's words and the tool results. It never sees a gold step. For the next
sub-task it picks the function whose name and description share most words with the sub-task
text (among those whose parameter count fits), fills literal parameters with the details the
user said that the sub-task mentions, and binds the rest to the field of the previous result
that best matches the parameter (its name, a few synonyms a model would know, and the
previous sub-task's wording). A call that got an error is not made again; the next best one
is. The final answer states the last result's field that best matches the last sub-task.

The user reads its prompt's request and details, and says them: the request, then the details
("The details: A; B."), never the sub-task breakdown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_endpoint import Reply, chat_completion
from agents.protocol import render_calls, render_final
from llm_role_responders import Roles, seen_results
from scale_responders import offered_tools

_PLAN_LINE = re.compile(r"^(\d+)\. (.+?)(?: \(uses the result of step ([\d, ]+)\))?$", re.MULTILINE)
_WORD = re.compile(r"[a-z0-9]+")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DETAILS = re.compile(r"The details: (.+?)\.$", re.MULTILINE)
# what a model knows without being told: words a result field's name stands for
_KNOWS = {
    "alma": "university attend", "manufacturer": "company maker makes", "ceo": "chief executive name person",
    "author": "wrote name person", "coach": "name person", "latest": "recent", "arrival": "land",
    "nationality": "country home", "director": "directed name person", "capital": "city", "code": "currency base",
    "top": "best highest", "next": "upcoming", "headquarters": "headquartered", "education": "university attend",
    "birth": "born",
}


def _words(text: str) -> set[str]:
    """Words cut to five letters, so 'headquartered' meets 'headquarters'."""
    return {word[:5] for word in _WORD.findall(text.casefold().replace("_", " "))}


def _known(text: str) -> set[str]:
    """The words of ``text`` and the words its words stand for."""
    words = _WORD.findall(text.casefold().replace("_", " "))
    return _words(text) | _words(" ".join(_KNOWS.get(word, "") for word in words))


def _system(body: dict[str, Any]) -> str:
    return next((m["content"] for m in body["messages"] if m["role"] == "system"), "")


def _user_words(body: dict[str, Any]) -> str:
    """What the user said (tags-mode result lists travel as user messages and are skipped)."""
    said = [m["content"] for m in body["messages"] if m["role"] == "user" and isinstance(m.get("content"), str)]
    return "\n".join(text for text in said if not text.lstrip().startswith("["))


@dataclass
class Step:
    """A sub-task as the system prompt lists it: its text and the steps whose results it uses."""

    text: str
    producers: list[int]


def _plan(body: dict[str, Any]) -> list[Step]:
    return [
        Step(match.group(2), [int(n) - 1 for n in match.group(3).split(",")] if match.group(3) else [])
        for match in _PLAN_LINE.finditer(_system(body))
    ]


@dataclass
class WorldAssistant:
    """The decent model. Misbehaviour on request: ``wrong_number`` states its answer's number
    off by 7; ``recall`` (a value -> a similar value the model remembers, or None) makes it
    repeat its first call for such a remembered value, one nobody said, before answering."""

    wrong_number: bool = False
    recall: Callable[[str], str | None] | None = None

    def __call__(self, body: dict[str, Any]) -> Reply:
        plan, results = _plan(body), [r for r in seen_results(body) if isinstance(r, dict)]
        tags = not body.get("tools")
        call = self._call(body, plan, results) if len(results) < len(plan) else self._invented(body, plan, results)
        if call is not None:
            text = render_calls("Next I look this up.", [call]) if tags else None
            return Reply(chat_completion(text, None if tags else [call], model=body["model"]))
        stuck = len(results) < len(plan)
        answer = "I could not find that out, sorry." if stuck else self._final(plan[-1], results[len(plan) - 1])
        return Reply(chat_completion(render_final("I have it.", answer) if tags else answer, model=body["model"]))

    def _invented(self, body: dict[str, Any], plan: list[Step], results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The first call again with a remembered value instead of the user's (once, native only)."""
        if self.recall is None or not body.get("tools") or sum(1 for m in body["messages"] if m.get("tool_calls")) > len(plan):
            return None
        first = next(m["tool_calls"][0]["function"] for m in body["messages"] if m.get("tool_calls"))
        arguments = json.loads(first["arguments"])
        for name, value in arguments.items():
            similar = self.recall(value) if isinstance(value, str) else None
            if similar is not None:
                return {"name": first["name"], "arguments": {**arguments, name: similar}}
        return None

    def _call(self, body: dict[str, Any], plan: list[Step], results: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The best-matching call for the next sub-task that has not failed already; None when
        every fitting call failed (the model then gives up)."""
        index = len(results)  # one call per turn, in plan order: result k answers sub-task k
        step = plan[index]
        earlier = " ".join(plan[i].text.casefold() for i in range(index))
        details = [value for found in _DETAILS.findall(_user_words(body)) for value in found.split("; ")]
        literals = [v for v in details if v.casefold() in step.text.casefold() and v.casefold() not in earlier]
        arity = len(literals) + len(step.producers)
        failed = _failed_calls(body)
        candidates = [
            call
            for spec in offered_tools(body)
            if len(spec["parameters"].get("required", [])) == arity
            for call in self._fillings(spec, step, plan, results, literals)
            if (call[1]["name"], json.dumps(call[1]["arguments"], sort_keys=True)) not in failed
        ]
        return max(candidates, key=lambda scored: scored[0])[1] if candidates else None

    def _fillings(
        self, spec: dict[str, Any], step: Step, plan: list[Step], results: list[dict[str, Any]], literals: list[str]
    ) -> list[tuple[int, dict[str, Any]]]:
        """Ways to call ``spec`` for ``step``, each with how well it fits: bound parameters take
        a field of the producer's result, literal ones the details the step mentions."""
        fit = len(_words(step.text) & _known(f"{spec['name']} {spec['description']}")) * 2
        options: list[tuple[int, dict[str, Any]]] = [(fit, {})]
        params = list(spec["parameters"]["required"])
        for producer in step.producers:
            source = results[producer]
            options = [
                (score + len(_known(param) & _known(field)) * 5 + len(_known(field) & _words(plan[producer].text)),
                 {**arguments, param: value})
                for score, arguments in options
                for param in params
                if param not in arguments
                for field, value in source.items()
                if isinstance(value, (str, int, float))
            ]
        calls = []
        for score, arguments in options:
            free = [param for param in params if param not in arguments]
            for value in sorted(literals, key=lambda v: not _DATE.match(v)):  # dates first, to date parameters
                fits = [p for p in free if ("date" in p) == bool(_DATE.match(value))] or free
                arguments[fits[0]] = value
                free.remove(fits[0])
            calls.append((score, {"name": spec["name"], "arguments": arguments}))
        return calls

    def _final(self, step: Step, result: dict[str, Any]) -> str:
        """The result field that best matches what the last sub-task asks (a number, when told to
        get it wrong), stated in a sentence."""
        fields = [(f, v) for f, v in result.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        if self.wrong_number:
            fields = [(f, v) for f, v in fields if not isinstance(v, str)]
            if not fields:
                return "I could not find it."
        field, value = max(fields, key=lambda fv: len(_known(fv[0]) & _words(step.text)))
        shown = value + 7 if self.wrong_number else value
        return f"The {field.replace('_', ' ')} is {shown}."


def _failed_calls(body: dict[str, Any]) -> set[tuple[str, str]]:
    """(name, arguments) of the calls so far that got an error instead of results, both protocols."""
    failed: set[tuple[str, str]] = set()
    errors = {m["tool_call_id"] for m in body["messages"] if m["role"] == "tool" and not m["content"].lstrip().startswith("{")}
    for message in body["messages"]:
        for call in message.get("tool_calls") or []:
            if call["id"] in errors:
                failed.add((call["function"]["name"], json.dumps(json.loads(call["function"]["arguments"]), sort_keys=True)))
        content = message.get("content")
        if message["role"] == "user" and isinstance(content, str) and content.lstrip().startswith("[{"):
            for entry in json.loads(content):
                if "error" in entry:
                    failed.add((entry["name"], json.dumps(entry["arguments"], sort_keys=True)))
    return failed


def world_user(body: dict[str, Any]) -> Reply:
    """Says the request, then the details its prompt lists; answers a question with the details."""
    system = _system(body)
    request = system.split("What you want done:\n", 1)[1].split("\n\n", 1)[0].strip()
    facts = re.findall(r"^- (.+)$", system.split("Details you know", 1)[1].split("How to behave", 1)[0], re.MULTILINE)
    details = f"The details: {'; '.join(facts)}."
    opening = sum(1 for m in body["messages"] if m["role"] == "assistant") == 0
    return Reply(chat_completion(f"Hi! {request}\n{details}" if opening else details, model=body["model"]))


def world_roles(assistant: WorldAssistant) -> Roles:
    return Roles(assistant=assistant, user=world_user)
