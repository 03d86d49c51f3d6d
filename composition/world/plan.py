"""Run a task's gold plan on the world: each atomic task's answer, or why there is none.

Offline composition uses this to keep only tasks the world can answer (a chain through a
private company's ticker or a road trip across an ocean has no answer, and is rejected as
``unanswerable``; a chain that comes back to a call it already made, as ``repeated_call``).
The steps run through the one gold-plan executor, ``composition.gold``,
with the world's ``result`` as the source of function results.
"""

from __future__ import annotations

from typing import Any

from composition.gold import GoldPlanError, GoldRun, run_gold_plan
from composition.ids import call_key
from composition.models import CompositionalTask
from composition.world.world import World


class Unanswerable(Exception):
    """A step of the plan has no answer in the world; the message says which and why."""

    reason = "unanswerable"


class RepeatedCall(Unanswerable):
    """Two sub-tasks make the same call (the release date of the latest film by the director of
    the film X, when X is that latest film): the answer is known half-way, and a trajectory that
    asks again would teach a model to repeat calls whose results it already has."""

    reason = "repeated_call"


def solve(world: World, task: CompositionalTask) -> list[Any]:
    """The answer of every atomic task of ``task`` (a result field's value or an operation's
    result). A reasoning step over two calls the world does not hold comparable (two teams of
    different leagues) has no meaningful answer either."""
    try:
        run = run_gold_plan(task, world.result)
    except GoldPlanError as problem:
        raise Unanswerable(str(problem)) from None
    if run.error is not None:
        step = task.atomic_tasks[run.failed_step or 0].step
        raise Unanswerable(run.failure if step is None or step.function is not None else f"{step.operation}: {run.failure}")
    for atomic in task.atomic_tasks:
        if atomic.step is not None and atomic.step.operation is not None:
            _check_comparable(world, task, atomic.step.bindings.values())
    _check_no_repeated_call(run)
    return [run.value(index) for index in range(len(task.atomic_tasks))]


def _check_comparable(world: World, task: CompositionalTask, refs: Any) -> None:
    producers = [task.atomic_tasks[ref.task].step for ref in refs]
    calls = [step.arguments for step in producers if step is not None and step.function is not None]
    if len(calls) == 2 and not world.comparable(calls[0], calls[1]):
        raise Unanswerable("the operands are not comparable like with like")


def _check_no_repeated_call(run: GoldRun) -> None:
    made: dict[str, int] = {}
    for index, inputs in sorted(run.inputs.items()):
        step = run.task.atomic_tasks[index].step
        if step is None or step.function is None:
            continue
        call = call_key(step.function, inputs)
        if call in made:
            raise RepeatedCall(f"sub-task {index} repeats the call of sub-task {made[call]} ({step.function})")
        made[call] = index
