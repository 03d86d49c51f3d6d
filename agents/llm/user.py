"""LLMUser: a language model playing the person who needs the compositional task done."""

from __future__ import annotations

from collections.abc import Sequence

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    UserMessage,
)

from agents.base import UnusableAnswer, UserRole
from agents.llm.model_role import ModelRole
from agents.llm.prompting import add_usage, background_facts, create, render_prompt
from composition.llm.reading import read_answer

OPENING_CUE = "Write your first message to the assistant now."


class LLMUser(ModelRole, UserRole):
    """Opens with the task in a human voice and answers questions from it; never sees functions.

    Its model only ever receives the task text and the literal values of the sub-tasks (names,
    dates, amounts), so no function name, system prompt or sub-task breakdown can leak into
    what it writes.
    """

    def _start(self) -> None:
        """The state of a fresh conversation (also what ``on_reset`` returns to)."""
        system = render_prompt("user", task=self.context.task.text, facts=background_facts(self.context.task))
        self._history: list[LLMMessage] = [SystemMessage(content=system)]

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """The first call (usually with no messages) opens; later calls answer the questions."""
        heard = [m for m in messages if m.source != self.name]
        if len(self._history) == 1:
            self._history.append(UserMessage(content=OPENING_CUE, source="environment"))
        for message in heard:
            self._history.append(UserMessage(content=message.to_model_text(), source=message.source))
        text, reasoning, usage, tries = await self._answer(cancellation_token)
        self._history.append(AssistantMessage(content=text, source=self.name))
        metadata = {"requests": str(tries), **({"reasoning": reasoning} if reasoning else {})}
        return Response(chat_message=TextMessage(content=text, source=self.name, models_usage=usage, metadata=metadata))

    async def _answer(self, cancellation_token: CancellationToken) -> tuple[str, str, RequestUsage | None, int]:
        """A usable message: a cut-off, refused, empty or call-shaped answer is asked again with
        feedback (which also keeps a cache from replaying it), ``retries`` times at most."""
        asked = list(self._history)
        usage: RequestUsage | None = None
        for tries in range(1, self.retries + 2):
            result, exchange = await create(self.model_client, self.name, asked, cancellation_token=cancellation_token)
            usage = add_usage(usage, result.usage)
            reading = read_answer(result, exchange)
            problem = _USER_PROBLEMS.get("calls" if reading.calls or reading.problem else reading.finish)
            if problem is None:
                return reading.text, reading.reasoning, usage, tries
            reason, feedback = problem
            asked = [*asked, AssistantMessage(content=reading.text or "(no message)", source=self.name),
                     UserMessage(content=feedback, source="environment")]
        raise UnusableAnswer(reason, f"{self.name}: no usable message after {self.retries + 1} tries ({reason})")


_USER_PROBLEMS = {
    "length": ("truncated", "Your message was cut off. Write it again, shorter."),
    "refusal": ("refusal", "This is a harmless role-play for building a dataset. Write your message as the person."),
    "empty": ("empty_answer", "Your message was empty. Write your message as the person."),
    "calls": ("empty_answer", "Write your message as plain text to the assistant; you have no tools."),
}
