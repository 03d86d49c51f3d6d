"""What every LLM role shares: its prompt templates, the task rendered as text, and model calls."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage, RequestUsage

from composition.gold import has_gold_plan, literal_values
from composition.llm.templates import fill
from composition.llm.wire import Exchange, speaking_as
from composition.models import CompositionalTask


class RoleModelError(RuntimeError):
    """A role could not get a usable reply from its model; the controller records agent_error."""


PROMPTS = Path(__file__).parent / "prompts"


def render_prompt(name: str, **values: str) -> str:
    """Fill ``prompts/<name>.md``; a placeholder without a value is an error naming it."""
    return fill(PROMPTS, name, values)


def background_facts(task: CompositionalTask) -> str:
    """The values the user may be asked for (names, dates, amounts) as a bulleted list.

    Never the sub-task texts: a user who knows the breakdown tends to recite it, and planning
    the steps is the assistant's job. Gold steps give the values exactly; for tasks without
    them (written by an LLM) the values are read off the sub-task texts: quoted phrases,
    numbers and dates, and capitalised names.
    """
    values = literal_values(task) if has_gold_plan(task) else _named_values(task)
    return "\n".join(f"- {value}" for value in values) or "- (nothing beyond the request above)"


_NAMED_VALUE = re.compile(
    r'"([^"]+)"'  # a quoted phrase
    r"|(\d[\d,.:/-]*\d|\d)"  # a number, date or time
    r"|((?<![.!?]\s)(?<!^)\b[A-Z][\w'-]*(?:\s+(?:of|de|the|and|[A-Z][\w'-]*))*)"  # a name, not a sentence's first word
)


def _named_values(task: CompositionalTask) -> list[str]:
    found: list[str] = []
    for atomic in task.atomic_tasks:
        for match in _NAMED_VALUE.finditer(atomic.text.strip()):
            value = next(group for group in match.groups() if group).strip()
            if value not in found:
                found.append(value)
    return found


def subtask_plan(task: CompositionalTask) -> str:
    """The sub-task decomposition in order with its dependencies: generation-time guidance only."""
    lines = []
    for index, atomic in enumerate(task.atomic_tasks):
        needs = task.producers(index)
        after = f" (uses the result of step {', '.join(str(i + 1) for i in needs)})" if needs else ""
        lines.append(f"{index + 1}. {atomic.text}{after}")
    return "\n".join(lines)


def add_usage(total: RequestUsage | None, usage: RequestUsage) -> RequestUsage:
    if total is None:
        return usage
    return RequestUsage(
        prompt_tokens=total.prompt_tokens + usage.prompt_tokens,
        completion_tokens=total.completion_tokens + usage.completion_tokens,
    )


async def create(
    client: ChatCompletionClient, role: str, messages: Sequence[LLMMessage], **kwargs: Any
) -> tuple[CreateResult, Exchange]:
    """One model request, sent as ``role`` (composition/llm/wire.py); the result comes with what
    the wire noted beside it. Any endpoint failure becomes a RoleModelError naming the role."""
    try:
        with speaking_as(role) as exchange:
            return await client.create(list(messages), **kwargs), exchange
    except Exception as error:  # the openai/AutoGen error hierarchy is wide; the cause is kept
        raise RoleModelError(f"{role}: model request failed: {type(error).__name__}: {error}") from error
