"""Quality figures of a run, for stats.json and the closing table: is the data true and varied?

Computed from the records on disk, like the rest of stats.json, so a resumed run reports the
whole run directory:

- ``grounded_calls``: the share of calls (in every trajectory, kept or not: it measures the
  assistant) whose arguments are all grounded, as the ``grounded_arguments`` check decides;
- ``answers``: final answers, how many were checked against a world's truth, and the share of
  those that were correct (from the ``correct_answer`` check's results);
- ``distinct_4grams``: distinct word 4-grams / all word 4-grams of the user's and of the
  assistant's text (thoughts included: they are exported) in kept trajectories (the data);
  low values mean templated, repetitive text;
- ``repeated_calls``: calls repeated across the run (same function, same canonical arguments),
  and the share of those whose results all agree; a consistent tool agrees with itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from composition.ids import call_key
from composition.jsonl import read_records
from composition.models import CompositionalTask
from environment.grounding import call_groundings
from environment.mentions import same_value
from environment.trajectory import Trajectory

_WORD = re.compile(r"\w+")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Diversity:
    """Distinct word 4-grams over all 4-grams of one speaker's text."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, ...]] = set()
        self.total = 0

    def add(self, text: str) -> None:
        words = _WORD.findall(text.casefold())
        grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
        self.total += len(grams)
        self.seen.update(grams)

    def share(self) -> float | None:
        return _share(len(self.seen), self.total)


def _checked_grounding(record: dict[str, Any]) -> bool | None:
    """What the run's own grounded_arguments check said (True: every call grounded), or None."""
    verdict = next((check for check in record.get("checks", []) if check["name"] == "grounded_arguments"), None)
    return None if verdict is None else bool(verdict["passed"])


def quality_figures(
    records: Iterable[dict[str, Any]], task_of: Callable[[str], CompositionalTask | None]
) -> dict[str, Any]:
    """The figures over trajectory records (as in trajectories.jsonl). A trajectory whose
    grounded_arguments check passed has every call grounded; the others are re-checked call by
    call, with their task from ``task_of`` (left out when it has none)."""
    calls = grounded = answers = checked = correct = 0
    text = {"user": _Diversity(), "assistant": _Diversity()}
    results: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        messages = record.get("messages", [])
        made = [call for message in messages for call in message.get("tool_calls", [])]
        if _checked_grounding(record):
            calls += len(made)
            grounded += len(made)
        elif (task := task_of(record["task_id"])) is not None:
            for _, problem in call_groundings(Trajectory.model_validate(record), task):
                calls += 1
                grounded += problem is None
        verdict = next((check for check in record.get("checks", []) if check["name"] == "correct_answer"), None)
        if messages and messages[-1].get("final"):
            answers += 1
            if verdict is not None and (not verdict["passed"] or not verdict.get("detail")):
                checked += 1
                correct += bool(verdict["passed"])
        if record.get("kept"):
            for message in messages:
                if message["role"] in text:
                    text[message["role"]].add(f"{message.get('thought', '')}\n{message.get('content', '')}")
        answered = {
            result["call_id"]: result["results"]
            for message in messages
            for result in message.get("tool_results", [])
            if result.get("error") is None
        }
        for call in made:
            if call["id"] in answered:
                results[call_key(call["name"], call.get("arguments", {}))].append(answered[call["id"]])
    repeated = [values for values in results.values() if len(values) > 1]
    agreeing = sum(all(same_value(values[0], other) for other in values[1:]) for values in repeated)
    return {
        "grounded_calls": {"calls": calls, "grounded": grounded, "share": _share(grounded, calls)},
        "answers": {
            "final": answers,
            "checked": checked,
            "correct": correct,
            "correct_share": _share(correct, checked),
        },
        "distinct_4grams": {role: diversity.share() for role, diversity in text.items()},
        "repeated_calls": {"repeated": len(repeated), "agreeing": agreeing, "share": _share(agreeing, len(repeated))},
    }


def run_quality(trajectories: Path, tasks: Path) -> dict[str, Any]:
    """The figures for a run directory's ``trajectories.jsonl``, reading ``tasks.jsonl`` only for
    the trajectories whose grounding must be re-checked (usually none: reading is the cost)."""
    unsure = {record["task_id"] for record in read_records(trajectories) if not _checked_grounding(record)}
    known = {}
    if unsure:
        known = {
            record["id"]: CompositionalTask.model_validate(record)
            for record in read_records(tasks)
            if record["id"] in unsure and record.get("kept", True)
        }
    return quality_figures(read_records(trajectories), known.get)
