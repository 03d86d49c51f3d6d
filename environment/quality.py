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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from composition.ids import canonical_json
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


def quality_figures(trajectories: Iterable[Trajectory], tasks: dict[str, CompositionalTask]) -> dict[str, Any]:
    calls = grounded = answers = checked = correct = 0
    text = {"user": _Diversity(), "assistant": _Diversity()}
    results: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for trajectory in trajectories:
        task = tasks.get(trajectory.task_id)
        if task is not None:
            for _, problem in call_groundings(trajectory, task):
                calls += 1
                grounded += problem is None
        verdict = next((check for check in trajectory.checks if check.name == "correct_answer"), None)
        if trajectory.messages and trajectory.messages[-1].final:
            answers += 1
            if verdict is not None and (not verdict.passed or verdict.detail == ""):
                checked += 1
                correct += verdict.passed
        if trajectory.kept:
            for message in trajectory.messages:
                if message.role in text:
                    text[message.role].add(f"{message.thought}\n{message.content}")
        answered = {result.call_id: result for result in trajectory.results if result.error is None}
        for call in trajectory.calls:
            if call.id in answered:
                results[(call.name, canonical_json(call.arguments))].append(answered[call.id].results)
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
    """The figures for a run directory's ``trajectories.jsonl`` and ``tasks.jsonl``."""
    known = {
        record["id"]: CompositionalTask.model_validate(record)
        for record in read_records(tasks)
        if record.get("kept", True)
    }
    return quality_figures((Trajectory.model_validate(record) for record in read_records(trajectories)), known)
