"""Measure whether offline data is true and varied, not only well-formed.

    python -m benchmarks.quality --tasks 200 --seed 3

Runs N offline conversations (the default configuration: world-backed tools, oracle
assistant, scripted user) in a temporary run directory, or reads an existing one with
``--run-dir``, and prints:

- fact contradictions: tool results that make a call of the fact table (benchmarks/facts.py)
  and disagree with it, over those that make such a call;
- numeric answers with a unit: final answers whose answer is a number with a unit in the
  library, and that state the number followed by that unit;
- top five-word phrase: the word 5-gram found in the most final answers, and in what share;
- distinct 4-grams: distinct word 4-grams over all word 4-grams, of the assistant's text
  (thoughts and answers) and of the user's text, as exported to export/openai.jsonl.

Targets over 200 conversations: no contradiction, every numeric answer with its unit, no
five-word phrase in more than 20% of final answers, distinct 4-grams >= 0.5 (assistant)
and >= 0.6 (user).
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agents.offline.phrasing import with_unit
from benchmarks.facts import FACTS
from composition.ids import canonical_json
from composition.models import CompositionalTask
from composition.world import load_world, normalize
from composition.world.plan import solve

_WORD = re.compile(r"[\w'’.-]+")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def words(text: str) -> list[str]:
    return [word.strip(".").casefold() for word in _WORD.findall(text) if word.strip(".")]


def ngrams(text: str, size: int) -> list[tuple[str, ...]]:
    tokens = words(text)
    return [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


def distinct_share(texts: Iterable[str], size: int = 4) -> float:
    """Distinct word n-grams over all word n-grams of ``texts`` (each text counted on its own)."""
    every = [gram for text in texts for gram in ngrams(text, size)]
    return len(set(every)) / len(every) if every else 0.0


def top_phrase(texts: list[str], size: int = 5) -> tuple[str, float]:
    """The word n-gram present in the most texts, and the share of texts that contain it."""
    counts: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        counts.update(set(ngrams(text, size)))
    if not counts:
        return "", 0.0
    phrase, count = counts.most_common(1)[0]
    return " ".join(phrase), count / len(texts)


def conversation_texts(export: list[dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """(assistant texts, user texts, final answers) of exported OpenAI-format conversations."""
    assistant, user, finals = [], [], []
    for record in export:
        messages = record["messages"]
        for message in messages:
            if message["role"] == "assistant" and message.get("content"):
                assistant.append(message["content"])
            elif message["role"] == "user":
                user.append(message["content"])
        last = messages[-1]
        if last["role"] == "assistant" and not last.get("tool_calls"):
            finals.append(last.get("content") or "")
    return assistant, user, finals


def tool_results(trajectories: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(function, arguments, results) of every successful call."""
    found = []
    for trajectory in trajectories:
        calls: dict[str, dict[str, Any]] = {}
        for message in trajectory["messages"]:
            for call in message.get("tool_calls") or []:
                calls[call["id"]] = call
            for result in message.get("tool_results") or []:
                if result.get("error") is None and result["call_id"] in calls:
                    call = calls[result["call_id"]]
                    found.append((call["name"], call["arguments"], result["results"]))
    return found


def _fact_key(function: str, arguments: dict[str, Any]) -> tuple[str, str]:
    return function, canonical_json({k: normalize(v) if isinstance(v, str) else v for k, v in arguments.items()})


def contradictions(trajectories: list[dict[str, Any]]) -> tuple[int, int]:
    """(tool results contradicting the fact table, tool results the fact table covers)."""
    facts = {_fact_key(function, arguments): (field, expected) for function, arguments, field, expected in FACTS}
    covered = wrong = 0
    for function, arguments, results in tool_results(trajectories):
        fact = facts.get(_fact_key(function, arguments))
        if fact is not None:
            covered += 1
            wrong += results.get(fact[0]) != fact[1]
    return wrong, covered


def unit_coverage(tasks: list[dict[str, Any]], trajectories: list[dict[str, Any]]) -> tuple[int, int, int]:
    """(numeric answers stating their unit, numeric answers that have a unit, numeric answers without one)."""
    world = load_world()
    by_id = {task["id"]: CompositionalTask.model_validate(task) for task in tasks}
    stated = with_unit_count = unitless = 0
    for trajectory in trajectories:
        task = by_id.get(trajectory["task_id"])
        last = trajectory["messages"][-1] if trajectory["messages"] else None
        if task is None or last is None or not last.get("final"):
            continue
        outputs = solve(world, task)
        value = outputs[-1]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        sink = task.atomic_tasks[-1]
        unit = sink.unit
        if unit and "{" in unit and sink.step is not None:
            bound = {name: outputs[ref.task] for name, ref in sink.step.bindings.items()}
            unit = unit.format(**sink.step.arguments, **bound)
        if not unit:
            unitless += 1
            continue
        with_unit_count += 1
        size = abs(value) if trajectory_is_difference(task) else value
        stated += with_unit(size, unit) in (last.get("content") or "")
    return stated, with_unit_count, unitless


def trajectory_is_difference(task: CompositionalTask) -> bool:
    step = task.atomic_tasks[-1].step
    return step is not None and step.operation in ("difference", "days_between")


def measure(run_dir: Path) -> dict[str, Any]:
    trajectories = read_jsonl(run_dir / "trajectories.jsonl")
    tasks = read_jsonl(run_dir / "tasks.jsonl")
    assistant, user, finals = conversation_texts(read_jsonl(run_dir / "export" / "openai.jsonl"))
    wrong, covered = contradictions(trajectories)
    stated, with_units, unitless = unit_coverage(tasks, trajectories)
    phrase, phrase_share = top_phrase(finals)
    return {
        "conversations": len(finals),
        "fact_calls": covered,
        "fact_contradictions": wrong,
        "contradiction_share": wrong / covered if covered else 0.0,
        "numeric_answers_with_unit": with_units,
        "numeric_answers_stating_unit": stated,
        "unit_share": stated / with_units if with_units else 0.0,
        "numeric_answers_without_unit_in_library": unitless,
        "top_five_word_phrase": phrase,
        "top_five_word_phrase_share": phrase_share,
        "distinct_4gram_assistant": distinct_share(assistant),
        "distinct_4gram_user": distinct_share(user),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="offline conversations to generate (default 200)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--run-dir", type=Path, help="measure this existing run directory instead of generating one")
    args = parser.parse_args(argv)
    if args.run_dir is not None:
        results = measure(args.run_dir)
    else:
        from button.api import run_pipeline

        with tempfile.TemporaryDirectory() as folder:
            run_pipeline(folder, [f"num_tasks={args.tasks}", f"seed={args.seed}", "runner.progress=false"])
            results = measure(Path(folder))
    for name, value in results.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{name:<42} {shown}")


if __name__ == "__main__":
    main()
