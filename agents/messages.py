"""Chat messages the roles exchange, as AutoGen agentchat message types.

AgentChat's own tool-call types are events (not chat messages), because its AssistantAgent
runs tools itself. Here the tool simulator is a separate agent, so calls and results travel as
chat messages between agents, and these types can sit in an AutoGen team as well.
"""

from __future__ import annotations

import json
from typing import Any

from autogen_agentchat.messages import BaseChatMessage, BaseTextChatMessage
from autogen_core import FunctionCall
from autogen_core.models import FunctionExecutionResult, UserMessage


class FunctionCallMessage(BaseChatMessage):
    """The assistant's turn that calls one or more functions (several means parallel calls)."""

    content: list[FunctionCall]
    thought: str = ""

    def to_text(self) -> str:
        calls = [{"name": call.name, "arguments": call.arguments} for call in self.content]
        return f"{self.thought}\n{json.dumps(calls)}".strip()

    def to_model_text(self) -> str:
        return self.to_text()

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.to_model_text(), source=self.source)

    def parsed_arguments(self) -> list[dict[str, Any]]:
        return [json.loads(call.arguments or "{}") for call in self.content]


class FunctionResultMessage(BaseChatMessage):
    """The tool simulator's answer: one result per call, in the order of the calls."""

    content: list[FunctionExecutionResult]

    def to_text(self) -> str:
        return json.dumps([{"name": r.name, "call_id": r.call_id, "content": r.content} for r in self.content])

    def to_model_text(self) -> str:
        return self.to_text()

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.to_model_text(), source=self.source)


class FinalAnswerMessage(BaseTextChatMessage):
    """The assistant's closing answer to the user; it ends the conversation."""

    thought: str = ""


class FormatErrorMessage(BaseTextChatMessage):
    """An assistant turn that broke the call protocol; the controller counts these."""

    raw: str = ""


ROLE_MESSAGE_TYPES: list[type[BaseChatMessage]] = [
    FunctionCallMessage,
    FunctionResultMessage,
    FinalAnswerMessage,
    FormatErrorMessage,
]
"""Register these with an AutoGen team (``custom_message_types=``) to use our roles inside it."""
