"""A trajectory's own tool results as a ``call(name, arguments)`` source for the gold executor.

Running a task's gold plan against what the conversation's tools actually said tells, step by
step, which sub-task got its call (with its own values), which values reasoning derives from
those results, and what the final answer should state. A recorded call answers a gold call
when it names the same function and agrees on every argument the gold step gives (an omitted
argument agrees when the gold value is the parameter's default); extra arguments are free.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from composition.gold import GoldRun, has_gold_plan, run_gold_plan
from composition.models import CompositionalTask
from environment.mentions import same_value
from environment.trajectory import ToolCall, Trajectory


class MissingCall(LookupError):
    """No recorded call answers a gold step's call."""


class RecordedCalls:
    """Looks gold calls up among a trajectory's answered calls (error answers do not count)."""

    def __init__(self, trajectory: Trajectory) -> None:
        results = {result.call_id: result for result in trajectory.results if result.error is None}
        self._answered = [(call, results[call.id].results) for call in trajectory.calls if call.id in results]
        self.used: set[str] = set()  # ids of the calls that answered a gold call
        self._defaults = {
            spec.name: {
                key: schema["default"]
                for key, schema in spec.parameters.get("properties", {}).items()
                if isinstance(schema, dict) and "default" in schema
            }
            for spec in trajectory.functions
        }

    def __call__(self, name: str, arguments: dict[str, Any]) -> Any:
        for call, results in self._answered:
            if self._agrees(call, name, arguments):
                self.used.add(call.id)
                return results
        shown = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
        raise MissingCall(f"no answered call {name}({shown})")

    def spare(self, name: str, arguments: dict[str, Any]) -> bool:
        """Whether a call no gold call used agrees with these (e.g. only the literal) arguments."""
        return any(call.id not in self.used and self._agrees(call, name, arguments) for call, _ in self._answered)

    def _agrees(self, call: ToolCall, name: str, arguments: dict[str, Any]) -> bool:
        defaults = self._defaults.get(name, {})
        return call.name == name and all(
            (
                same_value(call.arguments[key], value)
                if key in call.arguments
                else key in defaults and same_value(defaults[key], value)
            )
            for key, value in arguments.items()
        )


_shared: ContextVar[dict[tuple[int, int], tuple[GoldRun, RecordedCalls]] | None] = ContextVar("recorded_runs", default=None)


@contextmanager
def sharing_recorded_runs() -> Iterator[None]:
    """Within this block, checks of one trajectory share its recorded run instead of each
    running the gold plan again (the verifier holds it around one trajectory's checks, during
    which nothing changes the trajectory)."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def recorded_calls_run(trajectory: Trajectory, task: CompositionalTask) -> tuple[GoldRun, RecordedCalls] | None:
    """The gold plan run on the trajectory's own results, with the calls that answered it; None
    for a task without a gold plan."""
    if not has_gold_plan(task):
        return None
    shared = _shared.get()
    key = (id(trajectory), id(task))
    if shared is not None and key in shared:
        return shared[key]
    recorded = RecordedCalls(trajectory)
    found = (run_gold_plan(task, recorded), recorded)
    if shared is not None:
        shared[key] = found
    return found


def recorded_run(trajectory: Trajectory, task: CompositionalTask) -> GoldRun | None:
    """The gold plan run on the trajectory's own results; None for a task without a gold plan."""
    found = recorded_calls_run(trajectory, task)
    return found[0] if found is not None else None
