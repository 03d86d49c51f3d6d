"""Atomic task generation: one concrete, one-step, self-contained task per scenario."""

from __future__ import annotations

import re

from pydantic import BaseModel

from composition.ids import content_id
from composition.llm.stages.base import Stage, StageContext
from composition.llm.structured import JsonAnswer, Rejection
from composition.models import AtomicTask, Scenario

PLACEHOLDER = re.compile(r"\[[^\]]*\]|<[^>]*>|\{[^}]*\}")
TOOL_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b\w+\(\)")
VAGUE = re.compile(r"\b(something|someone|somewhere|certain|a specific|some kind of|etc|whatever|stuff)\b", re.I)


class AtomicTaskDraft(BaseModel):
    task: str
    answer: str


def task_text_problem(text: str) -> tuple[str, str] | None:
    """The rules every task text written by a model must follow, as (reason, what to fix)."""
    if not text.strip():
        return "empty", "the task is empty"
    if match := PLACEHOLDER.search(text):
        return "placeholder", f"replace the placeholder {match.group()!r} with a concrete value"
    if match := TOOL_NAME.search(text):
        return "names_a_tool", f"do not name tools or functions such as {match.group()!r}"
    if match := VAGUE.search(text):
        return "vague", f"replace the vague word {match.group()!r} with a concrete value"
    return None


class AtomicTaskGeneration(Stage):
    name = "atomic_tasks"
    answer = JsonAnswer.of(AtomicTaskDraft)

    async def run(self, context: StageContext, scenario: Scenario) -> AtomicTask | None:
        def check(draft: AtomicTaskDraft) -> tuple[str, str] | None:
            if not draft.answer.strip():
                return "empty", "name the task's result in 'answer'"
            return task_text_problem(draft.task)

        result = await self.ask(context, self.answer, self.opening(f"Scenario: {scenario.text}"), check)
        if isinstance(result, Rejection):
            self.rejected(context, result, scenario.id)
            return None
        text = result.task.strip()
        return AtomicTask(
            id=content_id("atomic", text, context.seed), text=text, scenario=scenario.text, reference=result.answer.strip()
        )
