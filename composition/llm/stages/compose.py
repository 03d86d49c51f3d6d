"""Composition: a model writes the sub-tasks of a strategy's shape and the composed task.

The strategy (from the same registry the offline library uses) draws the DAG; the given
atomic task is sub-task 1, and the model writes the others so that each uses the results its
edges say, plus one composed task that needs them all. The prompt is ``compose_<strategy>.md``
when there is one (sequential and parallel_then_sequential have their own wording) and the
generic ``compose.md``, fed the strategy's description, for any other registered strategy.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from composition.ids import content_id
from composition.llm.stages.atomic import task_text_problem
from composition.llm.stages.base import Stage, StageContext
from composition.llm.structured import JsonAnswer, Rejection
from composition.llm.templates import PROMPTS
from composition.models import AtomicTask, CompositionalTask
from composition.strategies import CompositionStrategy, TaskShape


class CompositionDraft(BaseModel):
    new_tasks: list[str]
    composed_task: str


def shape_text(shape: TaskShape, atomic: AtomicTask) -> str:
    """The atomic task and what each new sub-task must depend on, in the model's terms."""
    lines = [
        f"Sub-task 1 (the atomic task): {atomic.text}",
        f"Its result: {atomic.reference or 'the answer to sub-task 1'}",
        f"Write {shape.size - 1} new sub-task(s), in this order:",
    ]
    for index in range(1, shape.size):
        producers = shape.producers(index)
        needs = (
            "uses the results of sub-task " + " and ".join(str(p + 1) for p in producers)
            if producers
            else "needs no other sub-task's result (it can be done beside sub-task 1)"
        )
        lines.append(f"- sub-task {index + 1}: {needs}")
    return "\n".join(lines)


class Composition(Stage):
    name = "compose"

    def __init__(self, model: Mapping[str, Any] | None = None, prompt: str | None = None) -> None:
        super().__init__(model, prompt)
        self.answer = JsonAnswer.of(CompositionDraft)

    def prompt_for(self, strategy: CompositionStrategy) -> str:
        if self.prompt != self.name:  # a configured prompt wins
            return self.prompt
        specific = f"{self.name}_{strategy.name}"
        return specific if (PROMPTS / f"{specific}.md").is_file() else self.name

    async def run(
        self, context: StageContext, atomic: AtomicTask, strategy: CompositionStrategy, rng: random.Random
    ) -> CompositionalTask | None:
        shape = strategy.shape(rng)

        def check(draft: CompositionDraft) -> tuple[str, str] | None:
            if len(draft.new_tasks) != shape.size - 1:
                return "wrong_size", f"write exactly {shape.size - 1} new sub-task(s), not {len(draft.new_tasks)}"
            for label, text in [*(("new_tasks", t) for t in draft.new_tasks), ("composed_task", draft.composed_task)]:
                if problem := task_text_problem(text):
                    return problem[0], f"{label}: {problem[1]}"
            return None

        messages = self.opening(shape_text(shape, atomic), prompt=self.prompt_for(strategy), description=strategy.description)
        draft = await self.ask(context, self.answer, messages, check)
        if isinstance(draft, Rejection):
            self.rejected(context, draft, atomic.id)
            return None
        sub_tasks = [atomic] + [
            AtomicTask(id=content_id("atomic", text.strip(), context.seed), text=text.strip(), scenario=atomic.scenario)
            for text in draft.new_tasks
        ]
        composed = draft.composed_task.strip()
        payload = {"text": composed, "strategy": strategy.name, "atomic": [t.text for t in sub_tasks]}
        return CompositionalTask(
            id=content_id("task", payload, context.seed),
            text=composed,
            strategy=strategy.name,
            atomic_tasks=sub_tasks,
            edges=list(shape.edges),
        )
