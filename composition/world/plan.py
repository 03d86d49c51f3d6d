"""Run a task's gold plan on the world: each atomic task's answer, or why there is none.

Offline composition uses this to keep only tasks the world can answer (a chain through a
private company's ticker or a road trip across an ocean has no answer, and is rejected as
``unanswerable``). The steps run through the one gold-plan executor, ``composition.gold``,
with the world's ``result`` as the source of function results.
"""

from __future__ import annotations

from typing import Any

from composition.gold import GoldPlanError, run_gold_plan
from composition.models import CompositionalTask
from composition.world.world import World


class Unanswerable(Exception):
    """A step of the plan has no answer in the world; the message says which and why."""


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
    return [run.value(index) for index in range(len(task.atomic_tasks))]


def _check_comparable(world: World, task: CompositionalTask, refs: Any) -> None:
    producers = [task.atomic_tasks[ref.task].step for ref in refs]
    calls = [step.arguments for step in producers if step is not None and step.function is not None]
    if len(calls) == 2 and not world.comparable(calls[0], calls[1]):
        raise Unanswerable("the operands are not comparable like with like")
