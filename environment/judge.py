"""The optional LLM quality judge: a verification check that asks a model to review a trajectory.

Off by default (``environment.judge.enabled``); when on, it runs after the deterministic checks
and only on trajectories that passed them, so it never spends a request on a reject. A verdict
of "no" fails with reason ``judge_rejected``; a judge that cannot give a verdict (endpoint
fault, unusable answer after retries) fails with ``judge_error`` and never stops the run.
"""

from __future__ import annotations

import json
from typing import ClassVar

from autogen_core.models import ChatCompletionClient, SystemMessage, UserMessage
from pydantic import BaseModel, ConfigDict

from agents.llm.prompting import render_prompt, subtask_plan
from agents.system_prompt import functions_json
from composition.llm.structured import ENDPOINT_ERROR, JsonAnswer, Rejection, ask_json
from composition.models import CompositionalTask
from environment.trajectory import CheckResult, Trajectory

REVIEW_CUE = "Give your verdict on this conversation."


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passed: bool
    reason: str


class LLMJudge:
    """Async check (see environment/verification.py) answered by a model with a structured verdict."""

    name: ClassVar[str] = "llm_judge"
    only_if_passing: ClassVar[bool] = True

    def __init__(self, model_client: ChatCompletionClient, retries: int = 2) -> None:
        self.model_client = model_client
        self.retries = retries

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
        system = render_prompt(
            "judge",
            task=task.text,
            plan=subtask_plan(task),
            functions=functions_json(trajectory.functions),
            conversation=transcript(trajectory),
        )
        messages = [SystemMessage(content=system), UserMessage(content=REVIEW_CUE, source="environment")]
        try:
            verdict = await ask_json(self.model_client, messages, JsonAnswer.of(Verdict), retries=self.retries)
        except Exception as error:  # noqa: BLE001 - a judge failure rejects one trajectory, not the run
            verdict = Rejection(ENDPOINT_ERROR, f"{type(error).__name__}: {error}")
        if isinstance(verdict, Rejection):
            return CheckResult(name=self.name, passed=False, reason="judge_error", detail=f"{verdict.reason}: {verdict.detail}")
        if not verdict.passed:
            return CheckResult(name=self.name, passed=False, reason="judge_rejected", detail=verdict.reason)
        return CheckResult(name=self.name, passed=True, detail=verdict.reason)


def transcript(trajectory: Trajectory) -> str:
    """One compact JSON object per turn, without empty fields."""
    return "\n".join(
        json.dumps(message.model_dump(mode="json", exclude_defaults=True), ensure_ascii=False)
        for message in trajectory.messages
    )
