"""Scenario extraction (one per seed conversation) and expansion (N new ones per scenario)."""

from __future__ import annotations

from pydantic import BaseModel

from composition.ids import content_id
from composition.llm.seeds import SeedConversation
from composition.llm.stages.base import Stage, StageContext
from composition.llm.structured import JsonAnswer, Rejection
from composition.models import Scenario

MAX_SCENARIO_WORDS = 60  # the prompts ask for 40; a little slack before calling one too long


class ExtractedScenario(BaseModel):
    scenario: str


class NewScenarios(BaseModel):
    scenarios: list[str]


def scenario_problem(text: str) -> tuple[str, str] | None:
    """A scenario must say something, briefly."""
    if not text.strip():
        return "empty", "the scenario is empty"
    if len(text.split()) > MAX_SCENARIO_WORDS:
        return "too_long", f"a scenario has at most {MAX_SCENARIO_WORDS} words"
    return None


class ScenarioExtraction(Stage):
    """Describes the situation behind a seed conversation, without its solution."""

    name = "extract_scenarios"
    answer = JsonAnswer.of(ExtractedScenario)

    async def run(self, context: StageContext, seed: SeedConversation) -> Scenario | None:
        result = await self.ask(
            context,
            self.answer,
            self.opening(f"Conversation ({seed.origin}):\n{seed.text}"),
            check=lambda answer: scenario_problem(answer.scenario),
        )
        if isinstance(result, Rejection):
            self.rejected(context, result, seed.origin)
            return None
        text = result.scenario.strip()
        return Scenario(id=content_id("scenario", text, context.seed), text=text, source=seed.origin)


class ScenarioExpansion(Stage):
    """New scenarios that change the action or the subject of a given one."""

    name = "expand_scenarios"
    answer = JsonAnswer.of(NewScenarios)

    async def run(self, context: StageContext, scenario: Scenario, count: int) -> list[Scenario]:
        def check(answer: NewScenarios) -> tuple[str, str] | None:
            if not answer.scenarios:
                return "empty", f"give {count} scenarios"
            return next(filter(None, map(scenario_problem, answer.scenarios)), None)

        result = await self.ask(context, self.answer, self.opening(f"Scenario: {scenario.text}", count=count), check)
        if isinstance(result, Rejection):
            self.rejected(context, result, scenario.id)
            return []
        return [
            Scenario(id=content_id("scenario", text.strip(), context.seed), text=text.strip(), source=scenario.id)
            for text in result.scenarios[:count]
        ]
