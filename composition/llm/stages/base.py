"""What every LLM stage shares: its model overrides, its prompt file, and one way to ask.

A stage is a small class with a ``name`` (its key under ``composition.source.stages``, its
counter in stats.json and, by default, its prompt file). Hydra builds stages from their
``_target_``; the source hands each call a :class:`StageContext` with the model clients, so a
stage object holds configuration only and can be replaced by pointing ``_target_`` elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from autogen_core.models import ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from composition.llm.structured import Check, JsonAnswer, Rejection, ask_json
from composition.llm.templates import render
from composition.models import CompositionalTask
from composition.stats import PipelineStats, StageStats

log = logging.getLogger("composition.llm")


class ModelClientProvider(Protocol):
    """What composition needs of agents.model_clients.ModelClients (composition never imports agents)."""

    def get(self, overrides: Mapping[str, Any] | None = None) -> ChatCompletionClient: ...


@dataclass(frozen=True)
class StageContext:
    clients: ModelClientProvider
    stats: PipelineStats
    seed: int = 0
    retries: int = 2


class Stage:
    """Base of the LLM stages. ``model`` overrides the run's ``model`` config for this stage only."""

    name: ClassVar[str]

    def __init__(self, model: Mapping[str, Any] | None = None, prompt: str | None = None) -> None:
        self.model = dict(model or {})
        self.prompt = prompt or self.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r}, prompt={self.prompt!r})"

    def counts(self, context: StageContext) -> StageStats:
        return context.stats.stage(self.name)

    def opening(self, material: str, *, prompt: str | None = None, **values: object) -> list[LLMMessage]:
        """The prompt file (filled with ``values``) as instructions, ``material`` as the user turn."""
        instructions = render(prompt or self.prompt, **values)
        return [SystemMessage(content=instructions), UserMessage(content=material, source="user")]

    async def ask(
        self,
        context: StageContext,
        answer: JsonAnswer[Any],
        messages: Sequence[LLMMessage],
        check: Check | None = None,
    ) -> Any:
        """The stage's model answers ``messages`` with JSON, or a Rejection says why not."""
        return await ask_json(context.clients.get(self.model), messages, answer, retries=context.retries, check=check)

    def rejected(self, context: StageContext, rejection: Rejection, item: str) -> None:
        """Count a rejection and say why in the log (the detail never reaches an output file)."""
        self.counts(context).reject(rejection.reason)
        log.info("%s rejected %s: %s: %s", self.name, item, rejection.reason, rejection.detail)


def describe_task(task: CompositionalTask) -> str:
    """The task and its numbered sub-tasks with their dependencies, as a model reads them."""
    lines = [f"Compositional task: {task.text}", "Sub-tasks:"]
    for index, atomic in enumerate(task.atomic_tasks):
        producers = task.producers(index)
        uses = f" (uses the result of {', '.join(str(p + 1) for p in producers)})" if producers else ""
        lines.append(f"{index + 1}. {atomic.text}{uses}")
    return "\n".join(lines)
