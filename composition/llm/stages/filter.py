"""Filtering: the structural checks every source shares, then an LLM judge (can be switched off)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from composition.filters import structural_problems
from composition.llm.stages.base import Stage, StageContext, describe_task, log
from composition.llm.structured import JsonAnswer, Rejection
from composition.models import CompositionalTask


class Verdict(BaseModel):
    solves: bool
    reason: str


class TaskFilter(Stage):
    """Keeps a task only if it is well formed and, by the judge, its sub-tasks really solve it."""

    name = "filter"
    answer = JsonAnswer.of(Verdict)

    def __init__(self, model: Mapping[str, Any] | None = None, prompt: str | None = None, judge: bool = True) -> None:
        super().__init__(model, prompt)
        self.judge = judge

    def _reject(self, context: StageContext, task: CompositionalTask, reason: str) -> CompositionalTask:
        self.counts(context).reject(reason)
        return task.model_copy(update={"kept": False, "reject_reason": f"{self.name}:{reason}"})

    async def run(
        self, context: StageContext, task: CompositionalTask, filters: Iterable[str] | None = None
    ) -> CompositionalTask:
        """Structural checks first (``filters``: those the task's strategy declares, all when None)."""
        problems = structural_problems(task, filters)
        if problems:
            log.info("filter rejected %s: structural: %s", task.id, ", ".join(problems))
            return self._reject(context, task, problems[0])
        if self.judge:
            verdict = await self.ask(context, self.answer, self.opening(describe_task(task)))
            if isinstance(verdict, Rejection):
                log.info("filter rejected %s: %s: %s", task.id, verdict.reason, verdict.detail)
                return self._reject(context, task, verdict.reason)
            if not verdict.solves:
                log.info("filter rejected %s: judge: %s", task.id, verdict.reason)
                return self._reject(context, task, "judge_rejected")
        self.counts(context).keep()
        return task
