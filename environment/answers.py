"""The final answer's truth: ungrounded_answer (it states what the tools said) and wrong_answer
(it states what the world says).

Both run the task's gold plan and ask whether the final answer states the value of every
sink step (the steps no other consumes), as :meth:`Mentions.states` reads text: numbers may be
rounded or formatted, dates written out, strings in any case; a list is stated when every item
is. A choice ("which is larger") is stated by the chosen value, a comparison by the values it
compares (see :func:`composition.gold.stated_value`); a choice must also not call the other
side the larger one (:func:`wrong_side`). A step whose answer is null (a ratio by zero) has
nothing to state and is not checked.

ungrounded_answer runs the plan on the conversation's own recorded results, so it also holds
for schema-simulated tools. Tasks written by an LLM have no gold plan; for them the fallback
rule is that the final answer states at least one value of the last answered call's result.
wrong_answer runs the plan on a truth source (a grounded world's ``call``) and passes with the
detail "no world" when none is configured.
"""

from __future__ import annotations

import re
from typing import Any

from composition.gold import FunctionCaller, GoldRun, choice_adjective, has_gold_plan, run_gold_plan, sinks
from composition.models import CompositionalTask
from composition.values import leaves
from environment.check import Check, CheckSettings, truth_caller
from environment.mentions import Mentions
from environment.recorded import recorded_run
from environment.trajectory import Message, Trajectory


def final_answer(trajectory: Trajectory) -> Message | None:
    """The assistant's final answer when the conversation ends with one."""
    last = trajectory.messages[-1] if trajectory.messages else None
    return last if last is not None and last.role == "assistant" and last.final else None


def unstated(answer: str, run: GoldRun) -> str | None:
    """The first sink value the answer does not state (or a choice it states for the wrong
    side), described in one line; None if all are stated."""
    said = Mentions(answer)
    for index, value in zip(sinks(run.task), run.answers()):
        if next(leaves(value), None) is not None and not said.states(value):
            return f"the final answer does not state {value!r}, the answer to {run.task.atomic_tasks[index].text!r}"
        wrong = wrong_side(answer, run, index)
        if wrong:
            return wrong
    return None


_SENTENCE_END = re.compile(r"[.!?;:](?:\s|$)")
_NEGATION = re.compile(r"\bnot\b|n't\b|\bnever\b")


def wrong_side(answer: str, run: GoldRun, index: int) -> str | None:
    """For a choice between two ("which is higher"), a problem when the answer calls the other
    side the higher one; None when it names the chosen one or cannot be read.

    An answer that quotes both values states the chosen value either way, so the side is read
    from the words: before each use of the choice's adjective, within its sentence, the side
    named last is the one called so. A side is named by the values its look-up used that the
    other's did not ("Denver" against "Hong Kong"). A negation between the name and the
    adjective, or no name at all, leaves it undecided.
    """
    sides = run.choice(index)
    adjective = choice_adjective(run.task.atomic_tasks[index])
    if sides is None or adjective is None:
        return None
    chosen, other = _marks(run, *sides), _marks(run, *reversed(sides))
    if not chosen or not other:
        return None
    text = answer.casefold()
    for use in re.finditer(rf"\b{re.escape(adjective.casefold())}\b", text):
        start = max((end.end() for end in _SENTENCE_END.finditer(text, 0, use.start())), default=0)
        before = text[start : use.start()]
        position, side = max((before.rfind(mark), side) for side, marks in enumerate((chosen, other)) for mark in marks)
        if position >= 0 and side == 1 and not _NEGATION.search(before[position:]):
            named, right = (_refer(run, task) for task in reversed(sides))
            return f"the final answer calls {named} the {adjective} one, but it is {right}"
    return None


def _marks(run: GoldRun, side: int, other: int) -> list[str]:
    """The string values ``side``'s look-up used that ``other``'s did not, none inside the other's."""
    theirs = [str(value).casefold() for value in leaves(run.inputs.get(other, {}))]
    ours = [str(value).casefold() for value in leaves(run.inputs.get(side, {})) if isinstance(value, str)]
    return [mark for mark in ours if mark and not any(mark in value for value in theirs)]


def _refer(run: GoldRun, index: int) -> str:
    atomic = run.task.atomic_tasks[index]
    return atomic.reference or repr(atomic.text)


class GroundedAnswer(Check):
    name = "grounded_answer"
    reason = "ungrounded_answer"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        final = final_answer(trajectory)
        if final is None:
            return None  # final_answer reports it
        run = recorded_run(trajectory, task)
        if run is None:
            return self._fallback(trajectory, final.content)
        if not run.complete:
            return f"the answer cannot follow from this conversation's results: {run.failure}"
        return unstated(final.content, run)

    @staticmethod
    def _fallback(trajectory: Trajectory, answer: str) -> str | None:
        answered = [result for result in trajectory.results if result.error is None]
        if not answered:
            return None
        values = list(leaves(answered[-1].results))
        said = Mentions(answer)
        if values and not any(said.states(value) for value in values):
            return f"the final answer states no value of the last result ({answered[-1].name})"
        return None

    def note(self, trajectory: Trajectory, task: CompositionalTask) -> str:
        return "" if has_gold_plan(task) else "no gold plan: checked against the last call's result"


class CorrectAnswer(Check):
    name = "correct_answer"
    reason = "wrong_answer"

    def __init__(self, truth: Any = None) -> None:
        """``truth``: a ``call(name, arguments)`` callable, an object with one (a world), or None."""
        self.truth: FunctionCaller | None = truth_caller(truth)
        self._last: tuple[str, GoldRun | None] | None = None  # the world is pure: one run per task

    @classmethod
    def from_settings(cls, settings: CheckSettings) -> Check:
        return cls(settings.truth)

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        run = self._truth_run(task)
        final = final_answer(trajectory)
        if run is None or final is None or not run.complete:
            return None
        wrong = unstated(final.content, run)
        return f"{wrong} (the world's truth)" if wrong else None

    def note(self, trajectory: Trajectory, task: CompositionalTask) -> str:
        if self.truth is None:
            return "no world"
        run = self._truth_run(task)
        if run is None:
            return "no gold plan"
        return "" if run.complete else f"the world cannot answer: {run.failure}"

    def _truth_run(self, task: CompositionalTask) -> GoldRun | None:
        if self.truth is None or not has_gold_plan(task):
            return None
        if self._last is None or self._last[0] != task.id:
            self._last = (task.id, run_gold_plan(task, self.truth))
        return self._last[1]
