"""Verification: good trajectories are kept; each reason code fires on a deliberately broken one."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from agents.offline import OracleAssistant, SchemaToolSimulator, ScriptedUser
from composition.models import CompositionalTask
from environment.controller import EnvironmentController
from environment.trajectory import CheckResult, Message, Termination, ToolCall, Trajectory
from environment.verification import Verifier, default_checks
from task_factory import parallel_then_sequential_task, reasoning_task, sequential_task

MAX_TURNS = 12


async def played(task: CompositionalTask, parallel: bool = True) -> Trajectory:
    controller = EnvironmentController(ScriptedUser, OracleAssistant, SchemaToolSimulator, parallel_calls=parallel)
    return await controller.run(task)


async def verified(trajectory: Trajectory, task: CompositionalTask) -> Trajectory:
    return await Verifier(default_checks(MAX_TURNS)).verify(trajectory, task)


@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize("make_task", [sequential_task, parallel_then_sequential_task, reasoning_task])
async def test_oracle_trajectories_pass_every_check(make_task: Callable[[], CompositionalTask], parallel: bool) -> None:
    task = make_task()
    trajectory = await verified(await played(task, parallel), task)
    assert trajectory.kept, trajectory.checks
    assert trajectory.reject_reason is None
    assert [c.name for c in trajectory.checks] == [c.name for c in default_checks(MAX_TURNS)]


def first_call(trajectory: Trajectory) -> ToolCall:
    return trajectory.calls[0]


def rename_call(t: Trajectory) -> None:
    first_call(t).name = "get_book_authr"
    t.messages[2].tool_results[0].name = "get_book_authr"


def drop_required_argument(t: Trajectory) -> None:
    first_call(t).arguments = {}


def break_result(t: Trajectory) -> None:
    t.messages[2].tool_results[0].results["published_year"] = "long ago"


def tool_error(t: Trajectory) -> None:
    result = t.messages[2].tool_results[0]
    result.results, result.error = None, "service unavailable"


def drop_result(t: Trajectory) -> None:
    t.messages[2].tool_results = []


def mismatched_call_id(t: Trajectory) -> None:
    t.messages[2].tool_results[0].call_id = "call_99"


def skip_second_task(t: Trajectory) -> None:
    del t.messages[3:5]


def cut_data_flow(t: Trajectory) -> None:
    t.messages[3].tool_calls[0].arguments = {"person": "Somebody Else"}


def drop_final(t: Trajectory) -> None:
    t.messages.pop()


def too_many_turns(t: Trajectory) -> None:
    filler = [Message(role="assistant", content="Can you confirm?"), Message(role="user", content="Yes.")]
    t.messages[1:1] = filler * MAX_TURNS


def merge_calls(t: Trajectory) -> None:
    """Two calls in one turn while parallel calls are off (a second, independent look-up; a call
    that needs the first one's result would also be ungrounded)."""
    t.parallel_calls = False
    t.messages[1].tool_calls.append(first_call(t).model_copy(update={"id": "call_again"}))
    t.messages[2].tool_results.append(t.messages[2].tool_results[0].model_copy(update={"call_id": "call_again"}))


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        (rename_call, "unknown_function"),
        (drop_required_argument, "invalid_arguments"),
        (break_result, "invalid_results"),
        (tool_error, "invalid_results"),
        (drop_result, "unanswered_call"),
        (mismatched_call_id, "unanswered_call"),
        (skip_second_task, "missing_call"),
        (cut_data_flow, "broken_data_flow"),
        (drop_final, "no_final_answer"),
        (too_many_turns, "max_turns_exceeded"),
        (merge_calls, "parallel_violation"),
    ],
)
async def test_each_reason_code_fires_on_a_broken_trajectory(breakage: Callable[[Trajectory], None], reason: str) -> None:
    task = sequential_task()
    trajectory = await played(task)
    breakage(trajectory)
    result = await verified(trajectory, task)
    assert not result.kept
    assert result.reject_reason == reason, result.checks
    failing = next(c for c in result.checks if not c.passed)
    assert failing.reason == reason and failing.detail


async def test_an_unfinished_conversation_is_rejected_with_its_termination() -> None:
    task = sequential_task()
    trajectory = await EnvironmentController(ScriptedUser, OracleAssistant, SchemaToolSimulator, max_turns=1).run(task)
    result = await verified(trajectory, task)
    assert trajectory.termination is Termination.MAX_TURNS
    assert not result.kept and result.reject_reason == "max_turns"
    assert any(c.reason == "no_final_answer" for c in result.checks)


class Judge:
    """An async, model-like check: records what it saw; only worth running on passing ones."""

    name = "judge"
    only_if_passing = True

    def __init__(self, verdict: bool) -> None:
        self.verdict = verdict
        self.seen: list[str] = []

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
        self.seen.append(trajectory.id)
        return CheckResult(name=self.name, passed=self.verdict, reason=None if self.verdict else "judge_rejected")


async def test_pluggable_async_checks_run_last_and_only_on_passing_trajectories() -> None:
    task = sequential_task()
    judge = Judge(verdict=False)
    verifier = Verifier([*default_checks(MAX_TURNS), judge])
    rejected = await verifier.verify(await played(task), task)
    assert rejected.reject_reason == "judge_rejected" and rejected.checks[-1].name == "judge"
    broken = await played(task)
    drop_final(broken)
    await verifier.verify(broken, task)
    assert judge.seen == [rejected.id]


async def test_a_crashing_check_rejects_the_trajectory_instead_of_the_run() -> None:
    class Broken:
        name = "broken"

        async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
            raise ConnectionError("judge unreachable")

    task = sequential_task()
    result = await Verifier([Broken()]).verify(await played(task), task)
    assert result.reject_reason == "check_error" and "judge unreachable" in result.checks[0].detail


def test_checks_are_chosen_by_name_and_unknown_names_are_refused() -> None:
    assert [c.name for c in default_checks(3, ["data_flow", "known_functions"])] == ["known_functions", "data_flow"]
    with pytest.raises(ValueError, match="unknown check.*'dataflow'.*allowed: known_functions"):
        default_checks(3, ["dataflow"])
    with pytest.raises(ValueError, match="repeated"):
        Verifier([*default_checks(3), *default_checks(3, ["data_flow"])])
