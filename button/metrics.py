"""The numbers a report plots, computed from one run directory's records.

Distributions describe the kept conversations (the training data); the funnel and the
rejections describe everything the run made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from button.run_data import RunData
from composition.library.loader import load_library
from composition.models import CompositionalTask
from environment.trajectory import Trajectory

#: The domain of a task whose functions are not in the shipped library (an LLM run generates them).
GENERATED = "generated functions"
#: The domain of a task solved by reasoning alone.
NO_FUNCTIONS = "no functions"


@dataclass
class FunnelStep:
    name: str
    made: int
    kept: int
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class RunMetrics:
    funnel: list[FunnelStep]
    distributions: dict[str, Counter[int]]
    categories: dict[str, Counter[str]]
    check_pass_rates: dict[str, float]
    quality: dict[str, int | float]
    models: dict[str, dict[str, Any]]


@lru_cache(maxsize=1)
def _library_domains() -> dict[str, str]:
    """Function name -> the library domain that defines it."""
    return {entry.function.name: entry.domain for entry in load_library().entries if entry.function is not None}


def task_domains(task: CompositionalTask) -> set[str]:
    """The library domains of a task's functions (a task may span several)."""
    if not task.functions:
        return {NO_FUNCTIONS}
    known = _library_domains()
    return {known.get(spec.name, GENERATED) for spec in task.functions}


def funnel(run: RunData) -> list[FunnelStep]:
    """Each stage once, in pipeline order, from stats.json; conversations and exports from the
    files (they cover the whole run directory, also after a resume)."""
    steps = [
        FunnelStep(name, stage["made"], stage["kept"], dict(stage.get("rejected", {})))
        for name, stage in run.stats.get("stages", {}).items()
        if name != "converse"
    ]
    if not steps and run.tasks:
        rejected = Counter(task.reject_reason or "unknown" for task in run.tasks if not task.kept)
        steps.append(FunnelStep("tasks", len(run.tasks), sum(task.kept for task in run.tasks), dict(rejected)))
    rejected = Counter(t.reject_reason or "unknown" for t in run.trajectories if not t.kept)
    kept = sum(t.kept for t in run.trajectories)
    steps.append(FunnelStep("converse", len(run.trajectories), kept, dict(rejected.most_common())))
    exports = run.stats.get("exports") or {}
    if exports:
        steps.append(FunnelStep("export", kept, min(exports.values())))
    return steps


def _assistant_turns(trajectory: Trajectory) -> list[int]:
    return [len(message.tool_calls) for message in trajectory.messages if message.role == "assistant"]


def flatten_numbers(value: Any, prefix: str = "") -> dict[str, int | float]:
    """Numeric leaves of a nested mapping, named by their dotted path (counts stay ints)."""
    if isinstance(value, bool):
        return {}
    if isinstance(value, (int, float)):
        return {prefix or "value": value}
    if isinstance(value, dict):
        found: dict[str, int | float] = {}
        for key, inner in value.items():
            found.update(flatten_numbers(inner, f"{prefix}.{key}" if prefix else str(key)))
        return found
    return {}


def shares(numbers: dict[str, int | float]) -> dict[str, float]:
    """The entries that are shares (floats from 0 to 1), as percentages."""
    return {name: 100 * value for name, value in numbers.items() if isinstance(value, float) and 0 <= value <= 1}


def measure(run: RunData) -> RunMetrics:
    kept = [t for t in run.trajectories if t.kept]
    tasks = {task.id: task for task in run.tasks}
    kept_tasks = [tasks[t.task_id] for t in kept if t.task_id in tasks]
    distributions = {
        "assistant turns": Counter(len(_assistant_turns(t)) for t in kept),
        "function calls": Counter(sum(_assistant_turns(t)) for t in kept),
        "turns with parallel calls": Counter(sum(calls > 1 for calls in _assistant_turns(t)) for t in kept),
        "sub-tasks": Counter(len(task.atomic_tasks) for task in kept_tasks),
        "functions offered": Counter(len(task.functions) for task in kept_tasks),
    }
    domains: Counter[str] = Counter()
    for task in kept_tasks:
        domains.update(task_domains(task))
    categories = {
        "strategy": Counter(t.strategy or "-" for t in kept),
        "domain": domains,
    }
    checks: dict[str, list[bool]] = {}
    for trajectory in run.trajectories:
        for check in trajectory.checks:
            checks.setdefault(check.name, []).append(check.passed)
    return RunMetrics(
        funnel=funnel(run),
        distributions=distributions,
        categories=categories,
        check_pass_rates={name: sum(passed) / len(passed) for name, passed in checks.items()},
        quality=flatten_numbers(run.stats.get("quality") or {}),
        models=dict(run.stats.get("models") or {}),
    )
