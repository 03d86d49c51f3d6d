"""Verification of finished trajectories: deterministic checks, each failing with a reason code.

The check contract lives in :mod:`environment.check`; a check with ``only_if_passing = True``
runs only when everything before it passed (a judge need not spend a request on a trajectory
that is already rejected). The checks of what is true, not only well-formed, have their own
modules: grounding (arguments), answers (final answer), plan_leak (the user's turns).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from typing import Any

from composition.gold import has_gold_plan
from composition.ids import call_key
from composition.models import CompositionalTask
from composition.plugins import resolve_class
from composition.schemas import validation_errors
from composition.values import leaves
from environment.answers import CorrectAnswer, GroundedAnswer, final_answer
from environment.check import Check, CheckSettings, TrajectoryCheck, truth_caller
from environment.grounding import GroundedArguments
from environment.plan_leak import NoPlanLeak
from environment.recorded import MissingCall, recorded_calls_run, sharing_recorded_runs
from environment.trajectory import CheckResult, Termination, ToolCall, ToolResult, Trajectory

__all__ = ["Check", "CheckSettings", "DETERMINISTIC_CHECKS", "TrajectoryCheck", "Verifier", "default_checks"]

log = logging.getLogger(__name__)


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
    """Every sub-task with functions got its own answered call with its own values.

    With a gold plan, each function step's call (its literal values, and the values bound from
    what its producers' calls returned) must be among the answered calls, so two sub-tasks that
    use the same function need two calls. A spare call with the step's literal values but other
    bound values is left to data_flow (the call exists; the data did not flow into it). Without
    a gold plan (LLM-written tasks), each such sub-task needs a call of one of its functions
    whose arguments no other sub-task's call shares.
    """

    name = "covered_tasks"
    reason = "missing_call"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        if not has_gold_plan(task):
            missed = _unmatched(trajectory, task)
            return f"sub-tasks without a call of their own: {missed}" if missed else None
        found = recorded_calls_run(trajectory, task)
        assert found is not None  # the task has a gold plan
        run, recorded = found
        if not isinstance(run.error, MissingCall) or run.failed_step is None:
            return None
        step = task.atomic_tasks[run.failed_step].step
        assert step is not None and step.function is not None
        if step.bindings and recorded.spare(step.function, step.arguments):
            return None  # its own call exists, with other values than its producers gave: data_flow's case
        return f"sub-task {task.atomic_tasks[run.failed_step].text!r} got no call of its own: {run.error}"


def _unmatched(trajectory: Trajectory, task: CompositionalTask) -> list[str]:
    """Function sub-tasks left over by a largest matching of sub-tasks to distinct calls."""
    distinct = list({call_key(call.name, call.arguments): call.name for call in trajectory.calls}.items())
    owner: dict[int, int] = {}  # distinct call -> sub-task

    def assign(index: int, names: set[str], seen: set[int]) -> bool:
        for position, (_, name) in enumerate(distinct):
            if name in names and position not in seen:
                seen.add(position)
                holder = owner.get(position)
                if holder is None or assign(holder, _names(task, holder), seen):
                    owner[position] = index
                    return True
        return False

    subtasks = list(task.iter_function_tasks())
    return [atomic.text for index, atomic in subtasks if not assign(index, _names(task, index), set())]


def _names(task: CompositionalTask, index: int) -> set[str]:
    return {spec.name for spec in task.atomic_tasks[index].functions}


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
        return None if final_answer(trajectory) else "the last turn is not the assistant's final answer"


class WithinTurnLimit(Check):
    name = "turn_limit"
    reason = "max_turns_exceeded"

    def __init__(self, max_turns: int) -> None:
        self.max_turns = max_turns

    @classmethod
    def from_settings(cls, settings: CheckSettings) -> Check:
        return cls(settings.max_turns)

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
        GroundedArguments,
        EndsWithFinalAnswer,
        GroundedAnswer,
        CorrectAnswer,
        WithinTurnLimit,
        ParallelPolicy,
        NoPlanLeak,
    )
}
"""Every built-in check by name, in the order that makes the first failure the root cause."""


def default_checks(max_turns: int, names: Sequence[str] | None = None, truth: Any = None) -> list[TrajectoryCheck]:
    """The checks ``names`` lists (all built-ins when None): built-ins in their standard order,
    then any other ``Check`` subclass named by dotted path (``my_module.MyCheck``), in the
    order given. Each is built by its ``from_settings``.

    ``truth`` is the source of true function results for ``correct_answer``: a
    ``call(name, arguments)`` callable or an object with such a ``call`` (a grounded world).
    """
    chosen = list(DETERMINISTIC_CHECKS) if names is None else list(names)
    classes = [resolve_class(name, DETERMINISTIC_CHECKS, Check, "environment.checks", "check") for name in chosen]
    built_in = [check for check in DETERMINISTIC_CHECKS.values() if check in classes]
    own = [check for check in dict.fromkeys(classes) if check not in built_in]
    settings = CheckSettings(max_turns=max_turns, truth=truth_caller(truth))
    return [check.from_settings(settings) for check in (*built_in, *own)]


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
        with sharing_recorded_runs():
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
    for leaf in leaves(value):
        if isinstance(leaf, float) and leaf.is_integer():
            yield str(int(leaf))
        elif text := str(leaf).strip().casefold():
            yield text
