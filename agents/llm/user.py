"""LLMUser: a language model playing the person who needs the compositional task done."""

from __future__ import annotations

from collections.abc import Sequence

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken
from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage

from agents.base import UserRole
from agents.context import ConversationContext
from agents.llm.prompting import RoleModelError, background_facts, create, render_prompt

OPENING_CUE = "Write your first message to the assistant now."


class LLMUser(UserRole):
    """Opens with the task in a human voice and answers questions from it; never sees functions.

    Its model only ever receives the task text and the literal values of the sub-tasks (names,
    dates, amounts), so no function name, system prompt or sub-task breakdown can leak into
    what it writes.
    """

    def __init__(
        self,
        context: ConversationContext,
        model_client: ChatCompletionClient,
        name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(context, name, description)
        self.model_client = model_client
        system = render_prompt("user", task=context.task.text, facts=background_facts(context.task))
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
        result = await create(self.model_client, self.name, self._history, cancellation_token=cancellation_token)
        text = result.content.strip() if isinstance(result.content, str) else ""
        if not text:
            raise RoleModelError(f"{self.name}: the model returned an empty message (finish={result.finish_reason})")
        self._history.append(AssistantMessage(content=text, source=self.name))
        return Response(chat_message=TextMessage(content=text, source=self.name, models_usage=result.usage))
