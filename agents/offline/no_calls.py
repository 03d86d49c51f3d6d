"""A deliberately weak assistant: answers at once, calling no function.

It is the floor ``button eval`` must tell apart from the oracle (agents/assistant=no_calls):
its answer states no looked-up value, so success, progress and call recall are 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken

from agents.base import AssistantRole
from agents.messages import FinalAnswerMessage


class NoCallAssistant(AssistantRole):
    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        answer = "I can't look that up right now; please check a reliable source."
        return Response(chat_message=FinalAnswerMessage(content=answer, source=self.name))
