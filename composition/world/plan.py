"""Run a task's gold plan on the world: each atomic task's answer, or why there is none.

Offline composition uses this to keep only tasks the world can answer (a chain through a
private company's ticker or a road trip across an ocean has no answer, and is rejected as
``unanswerable``). Steps run in index order, which puts producers first, as the library's
strategies build them.
"""

from __future__ import annotations

from typing import Any

from composition.models import CompositionalTask, OutputRef
from composition.operations import apply_operation
from composition.world.world import World


class Unanswerable(Exception):
    """A step of the plan has no answer in the world; the message says which and why."""


def solve(world: World, task: CompositionalTask) -> list[Any]:
    """The answer of every atomic task of ``task`` (a result field's value or an operation's
    result). A reasoning step over two calls the world does not hold comparable (two teams of
    different leagues) has no meaningful answer either."""
    outputs: list[Any] = []
    results: list[Any] = []
    for index, atomic in enumerate(task.atomic_tasks):
        step = atomic.step
        if step is None:
            raise Unanswerable(f"sub-task {index} has no gold step")
        inputs = {**step.arguments, **{name: _value(results, outputs, ref) for name, ref in step.bindings.items()}}
        if step.function is not None:
            answer = world.call(step.function, inputs)
            if not answer.found or answer.result is None:
                raise Unanswerable(f"{step.function}: {answer.error}")
            result = answer.result
            if step.output_field is not None and step.output_field not in result:
                raise Unanswerable(f"{step.function} answered without {step.output_field!r}")
            output = result.get(step.output_field) if step.output_field else result
        else:
            _check_comparable(world, task, step.bindings.values())
            try:
                result = output = apply_operation(step.operation or "", inputs)
            except ValueError as problem:
                raise Unanswerable(f"{step.operation}: {problem}") from None
        results.append(result)
        outputs.append(output)
    return outputs


def _value(results: list[Any], outputs: list[Any], ref: OutputRef) -> Any:
    if ref.task >= len(results):
        raise Unanswerable(f"a binding refers to sub-task {ref.task}, which comes later")
    if ref.field is None:
        return outputs[ref.task]
    result = results[ref.task]
    if not isinstance(result, dict) or ref.field not in result:
        raise Unanswerable(f"sub-task {ref.task} has no output field {ref.field!r}")
    return result[ref.field]


def _check_comparable(world: World, task: CompositionalTask, refs: Any) -> None:
    producers = [task.atomic_tasks[ref.task].step for ref in refs]
    calls = [step.arguments for step in producers if step is not None and step.function is not None]
    if len(calls) == 2 and not world.comparable(calls[0], calls[1]):
        raise Unanswerable("the operands are not comparable like with like")
