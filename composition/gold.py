"""The gold-plan executor: a task's steps run in DAG order against any source of function results.

A compositional task built from the library carries a gold ``Step`` per atomic task. Running
those steps needs only a ``call(function, arguments) -> result`` callable and the reasoning
operations, so the same executor answers different questions depending on what ``call`` is:

- the trajectory's own recorded results: what the conversation's answer should have been,
  given what its tools said (and which sub-task's call is missing);
- a grounded world: the true answer, to catch answers that are well-formed but wrong.

The pieces the offline oracle also needs (``step_inputs``, ``resolve``, ``stated_value``) are
public functions over plain ``outputs`` dicts, so an incremental player can reuse them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import re
from dataclasses import dataclass, field
from typing import Any

from composition.models import AtomicTask, CompositionalTask, OutputRef, Step
from composition.operations import apply_operation
from composition.values import leaves

FunctionCaller = Callable[[str, dict[str, Any]], Any]
"""Answers one function call: ``call(name, arguments)`` returns the result or raises."""


class GoldPlanError(ValueError):
    """A step cannot run: a binding points at a missing output or output field."""


def has_gold_plan(task: CompositionalTask) -> bool:
    """Whether every atomic task has a gold step (tasks an LLM wrote have none)."""
    return all(atomic.step is not None for atomic in task.atomic_tasks)


def literal_values(task: CompositionalTask) -> list[Any]:
    """The literal scalar values the gold steps use (names, dates, amounts), each once, in order."""
    found: list[Any] = []
    for atomic in task.atomic_tasks:
        for value in leaves(atomic.step.arguments if atomic.step is not None else {}):
            if value not in found:
                found.append(value)
    return found


def sinks(task: CompositionalTask) -> list[int]:
    """The atomic tasks no other consumes: their values are what the final answer states."""
    producers = {source for source, _ in task.edges}
    return [index for index in range(len(task.atomic_tasks)) if index not in producers]


def resolve(tasks: list[AtomicTask], outputs: Mapping[int, Any], ref: OutputRef) -> Any:
    """The value an ``OutputRef`` names: the producer's output, narrowed to its field if any."""
    if ref.task not in outputs:
        raise GoldPlanError(f"a binding refers to sub-task {ref.task}, which has no output yet")
    output = outputs[ref.task]
    step = tasks[ref.task].step
    key = ref.field or (step.output_field if step is not None else None)
    if key is None or not isinstance(output, dict):
        return output
    if key not in output:
        raise GoldPlanError(f"the output of {tasks[ref.task].text!r} has no field {key!r}; it has {sorted(output)}")
    return output[key]


_CHOICE_ADJECTIVE = re.compile(r"^the (.+?) of ")


def choice_adjective(atomic: AtomicTask) -> str | None:
    """The word a choice is stated with ("higher" for "the higher of X and Y"), or None."""
    found = _CHOICE_ADJECTIVE.match(atomic.reference or "")
    return found.group(1) if found else None


def step_inputs(tasks: list[AtomicTask], outputs: Mapping[int, Any], step: Step) -> dict[str, Any]:
    """A step's arguments: its literal values merged with the values bound from producers."""
    bound = {name: resolve(tasks, outputs, ref) for name, ref in step.bindings.items()}
    return {**step.arguments, **bound}


def stated_value(step: Step, inputs: Mapping[str, Any], value: Any) -> Any:
    """What an answer must state for a step whose answer is ``value``.

    A reasoning step that picks one of its inputs (``max_of`` answers "b") is stated by that
    input's value; one that answers with a sentence about its inputs (``compare``) is stated
    by the values it compares. Any other value is stated as it is.
    """
    if step.operation is None or not isinstance(value, str):
        return value
    if value in inputs:
        return inputs[value]
    return [inputs[key] for key in sorted(inputs)]


@dataclass
class GoldRun:
    """What running a gold plan produced; ``failed_step`` and ``error`` say where and why it
    stopped, if it did."""

    task: CompositionalTask
    outputs: dict[int, Any] = field(default_factory=dict)
    inputs: dict[int, dict[str, Any]] = field(default_factory=dict)
    failed_step: int | None = None
    error: Exception | None = None

    @property
    def failure(self) -> str | None:
        """Why the run stopped, in one line; None when every step ran."""
        return None if self.error is None else str(self.error) or type(self.error).__name__

    @property
    def complete(self) -> bool:
        return self.error is None and len(self.outputs) == len(self.task.atomic_tasks)

    def value(self, index: int) -> Any:
        """The answer of one step: its output field when it names one."""
        return resolve(self.task.atomic_tasks, self.outputs, OutputRef(task=index))

    def stated(self, index: int) -> Any:
        step = self.task.atomic_tasks[index].step
        assert step is not None
        return stated_value(step, self.inputs[index], self.value(index))

    def choice(self, index: int) -> tuple[int, int] | None:
        """(chosen, other) producer of a step that picks one of two differing inputs (the larger
        of two temperatures), or None for any other step."""
        step = self.task.atomic_tasks[index].step
        assert step is not None
        chosen = self.value(index)
        if step.operation not in ("max_of", "min_of") or len(step.bindings) != 2 or chosen not in step.bindings:
            return None
        other = next(name for name in step.bindings if name != chosen)
        if self.inputs[index][chosen] == self.inputs[index][other]:
            return None  # a tie names no side
        return step.bindings[chosen].task, step.bindings[other].task

    def answers(self) -> list[Any]:
        """What the final answer must state: the stated value of every sink, in task order."""
        return [self.stated(index) for index in sinks(self.task)]

    def derived(self) -> list[Any]:
        """Values worked out by reasoning steps (not given by anyone, but computed from what was),
        as an answer would state them."""
        return [
            self.stated(index)
            for index in self.outputs
            if (step := self.task.atomic_tasks[index].step) is not None and step.operation is not None
        ]


def run_gold_plan(task: CompositionalTask, call: FunctionCaller) -> GoldRun:
    """Run every step in DAG order; the first step that cannot run stops the run (see ``GoldRun.error``).

    Raises GoldPlanError when the task has no gold plan at all.
    """
    if not has_gold_plan(task):
        missing = [atomic.text for atomic in task.atomic_tasks if atomic.step is None]
        raise GoldPlanError(f"no gold step for: {missing}")
    run = GoldRun(task=task)
    tasks = task.atomic_tasks
    for layer in task.topological_layers():
        for index in layer:
            step = tasks[index].step
            assert step is not None
            try:
                inputs = step_inputs(tasks, run.outputs, step)
                run.inputs[index] = inputs
                if step.function is not None:
                    run.outputs[index] = call(step.function, dict(inputs))
                else:
                    assert step.operation is not None
                    run.outputs[index] = apply_operation(step.operation, inputs)
                run.value(index)  # a missing output field fails here, at its own step
            except Exception as error:  # noqa: BLE001 - any source's failure is recorded, not raised
                run.outputs.pop(index, None)
                run.failed_step, run.error = index, error
                return run
    return run
