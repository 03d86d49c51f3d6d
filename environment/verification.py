"""Verification of finished trajectories: deterministic checks, each failing with a reason code.

A check is any object with a ``name`` and an async ``__call__(trajectory, task)`` returning a
:class:`CheckResult`, so checks are pluggable, including slow ones such as an LLM judge. A
check with ``only_if_passing = True`` runs only when everything before it passed (a judge
need not spend a request on a trajectory that is already rejected).
"""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Protocol

from agents.offline.validation import validation_errors
from composition.models import CompositionalTask
from environment.trajectory import CheckResult, Termination, ToolCall, ToolResult, Trajectory

log = logging.getLogger(__name__)


class TrajectoryCheck(Protocol):
    name: str

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult: ...


class Check(ABC):
    """A deterministic check: ``problem`` says what is wrong, or None when the trajectory passes."""

    name: ClassVar[str]
    reason: ClassVar[str]
    only_if_passing: ClassVar[bool] = False

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
        problem = self.problem(trajectory, task)
        if problem is None:
            return CheckResult(name=self.name, passed=True)
        return CheckResult(name=self.name, passed=False, reason=self.reason, detail=problem)

    @classmethod
    def from_settings(cls, max_turns: int) -> Check:
        """Build the check from the environment settings it may need."""
        return cls()

    @abstractmethod
    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        """None when the trajectory passes; otherwise what is wrong, in one line."""


class KnownFunctions(Check):
    name = "known_functions"
    reason = "unknown_function"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        listed = {spec.name for spec in trajectory.functions}
        unknown = sorted({call.name for call in trajectory.calls if call.name not in listed})
        return f"calls to functions not in the tool list: {unknown}" if unknown else None


class ValidArguments(Check):
    name = "valid_arguments"
    reason = "invalid_arguments"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        specs = {spec.name: spec for spec in trajectory.functions}
        for call in trajectory.calls:
            if call.name in specs:
                problems = validation_errors(specs[call.name].parameters, call.arguments)
                if problems:
                    return f"{call.name} ({call.id}): {'; '.join(problems)}"
        return None


class ValidResults(Check):
    """Results obey the function's ``responses``; an error answer from the tool counts as invalid."""

    name = "valid_results"
    reason = "invalid_results"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        specs = {spec.name: spec for spec in trajectory.functions}
        for result in trajectory.results:
            if result.error is not None:
                return f"{result.name} ({result.call_id}) returned an error: {result.error}"
            if result.name in specs:
                problems = validation_errors(specs[result.name].responses, result.results)
                if problems:
                    return f"{result.name} ({result.call_id}): {'; '.join(problems)}"
        return None


class AnsweredCalls(Check):
    """The tool turn right after each call turn answers each of its calls exactly once."""

    name = "answered_calls"
    reason = "unanswered_call"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        messages = trajectory.messages
        for position, message in enumerate(messages):
            if message.role == "tool" and (position == 0 or not messages[position - 1].tool_calls):
                return f"tool turn {position} answers no call turn"
            if not message.tool_calls:
                continue
            following = messages[position + 1] if position + 1 < len(messages) else None
            answered = [r.call_id for r in following.tool_results] if following and following.role == "tool" else []
            asked = [call.id for call in message.tool_calls]
            if sorted(answered) != sorted(asked) or len(set(asked)) != len(asked):
                return f"turn {position}: calls {asked} got results for {answered}"
        return None


class CoveredTasks(Check):
    """Every atomic task with functions got at least one call of one of its functions."""

    name = "covered_tasks"
    reason = "missing_call"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        called = {call.name for call in trajectory.calls}
        missed = [
            atomic.text for _, atomic in task.iter_function_tasks() if not called & {f.name for f in atomic.functions}
        ]
        return f"sub-tasks without a call: {missed}" if missed else None


class DataFlow(Check):
    """Along each edge i -> j between function tasks, a value from i's results is in j's arguments."""

    name = "data_flow"
    reason = "broken_data_flow"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        for source, target in task.edges:
            producer, consumer = task.atomic_tasks[source], task.atomic_tasks[target]
            if not producer.functions or not consumer.functions:
                continue
            produced = {
                leaf
                for result in _results_of(trajectory, {f.name for f in producer.functions})
                for leaf in _leaves(result.results)
            }
            consumed = {
                leaf for call in _calls_of(trajectory, {f.name for f in consumer.functions}) for leaf in _leaves(call.arguments)
            }
            if not produced & consumed:
                return f"no result of {producer.text!r} reaches the arguments of {consumer.text!r}"
        return None


class EndsWithFinalAnswer(Check):
    name = "final_answer"
    reason = "no_final_answer"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        last = trajectory.messages[-1] if trajectory.messages else None
        if last is None or last.role != "assistant" or not last.final:
            return "the last turn is not the assistant's final answer"
        return None


class WithinTurnLimit(Check):
    name = "turn_limit"
    reason = "max_turns_exceeded"

    def __init__(self, max_turns: int) -> None:
        self.max_turns = max_turns

    @classmethod
    def from_settings(cls, max_turns: int) -> Check:
        return cls(max_turns)

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        turns = sum(message.role == "assistant" for message in trajectory.messages)
        return f"{turns} assistant turns, the limit is {self.max_turns}" if turns > self.max_turns else None


class ParallelPolicy(Check):
    """With parallel calls off, no turn holds more than one call."""

    name = "parallel_policy"
    reason = "parallel_violation"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        if trajectory.parallel_calls:
            return None
        crowded = [i for i, message in enumerate(trajectory.messages) if len(message.tool_calls) > 1]
        return f"turns {crowded} hold several calls while parallel calls are off" if crowded else None


DETERMINISTIC_CHECKS: dict[str, type[Check]] = {
    check.name: check
    for check in (
        KnownFunctions,
        ValidArguments,
        ValidResults,
        AnsweredCalls,
        CoveredTasks,
        DataFlow,
        EndsWithFinalAnswer,
        WithinTurnLimit,
        ParallelPolicy,
    )
}
"""Every built-in check by name, in the order that makes the first failure the root cause."""


def default_checks(max_turns: int, names: Sequence[str] | None = None) -> list[TrajectoryCheck]:
    """The built-in checks named in ``names`` (all of them when None), in their standard order."""
    chosen = list(DETERMINISTIC_CHECKS) if names is None else list(names)
    unknown = [name for name in chosen if name not in DETERMINISTIC_CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; allowed: {', '.join(DETERMINISTIC_CHECKS)}")
    return [
        check.from_settings(max_turns)
        for name, check in DETERMINISTIC_CHECKS.items()
        if name in chosen
    ]


class Verifier:
    """Runs the checks in order and decides whether a trajectory is kept.

    A termination other than ``final_answer`` rejects with the termination as the reason;
    otherwise the first failing check's reason code is the reject reason. A check that raises
    fails with reason ``check_error`` instead of stopping the run.
    """

    def __init__(self, checks: Sequence[TrajectoryCheck]) -> None:
        names = [check.name for check in checks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"check names must be unique; repeated: {duplicates}")
        self.checks = list(checks)

    async def verify(self, trajectory: Trajectory, task: CompositionalTask) -> Trajectory:
        ended_well = trajectory.termination == Termination.FINAL_ANSWER
        results: list[CheckResult] = []
        for check in self.checks:
            failing = not ended_well or any(not r.passed for r in results)
            if failing and getattr(check, "only_if_passing", False):
                continue
            results.append(await _run(check, trajectory, task))
        trajectory.checks = results
        first_failure = next((r.reason for r in results if not r.passed), None)
        trajectory.reject_reason = trajectory.termination.value if not ended_well else first_failure
        trajectory.kept = trajectory.reject_reason is None
        return trajectory


async def _run(check: TrajectoryCheck, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
    try:
        outcome: Any = check(trajectory, task)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if not isinstance(outcome, CheckResult):
            raise TypeError(f"check {check.name} returned {type(outcome).__name__}, not CheckResult")
    except Exception as error:  # noqa: BLE001 - a broken check rejects one trajectory, not the run
        log.warning("check %s failed on %s: %s", check.name, trajectory.id, error)
        return CheckResult(name=check.name, passed=False, reason="check_error", detail=f"{type(error).__name__}: {error}")
    return outcome


def _calls_of(trajectory: Trajectory, names: set[str]) -> Iterator[ToolCall]:
    return (call for call in trajectory.calls if call.name in names)


def _results_of(trajectory: Trajectory, names: set[str]) -> Iterator[ToolResult]:
    return (result for result in trajectory.results if result.name in names and result.error is None)


def _leaves(value: Any) -> Iterator[str]:
    """Scalar leaves as normalized text (3.0 and "3" match); booleans and nulls say too little."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float) and value.is_integer():
        yield str(int(value))
    else:
        text = str(value).strip().casefold()
        if text:
            yield text
