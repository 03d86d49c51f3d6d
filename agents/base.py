"""Base classes of the three roles, following AgentChat's BaseChatAgent contract.

A role is created per conversation from a :class:`ConversationContext`, receives only the new
messages in ``on_messages`` and keeps its own history. Subclass one of these and point a
config's ``_target_`` at the subclass to replace a role; the controller needs no edit.
"""

from __future__ import annotations

from collections.abc import Sequence

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken

from agents.context import ConversationContext
from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage, FunctionResultMessage


class UnusableAnswer(RuntimeError):
    """A role's model kept answering with nothing usable, after its retries; ``reason``
    (truncated, refusal, empty_answer, tool_simulator_failed) ends the conversation as that
    termination instead of agent_error, so the rejection says what went wrong."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Role(BaseChatAgent):
    """Common constructor: every role knows its conversation's context."""

    default_name = "role"
    default_description = "A participant in a simulated function-calling conversation."

    def __init__(self, context: ConversationContext, name: str | None = None, description: str | None = None) -> None:
        super().__init__(name or self.default_name, description or self.default_description)
        self.context = context

    def _start(self) -> None:
        """Set the per-conversation state. Subclasses call it at the end of ``__init__``, and
        ``on_reset`` calls it again, so a role in an AutoGen team (``team.reset()``) starts
        its next run as fresh as a newly built one."""

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self._start()


class UserRole(Role):
    """States the compositional task and answers the assistant's questions. Never sees functions."""

    default_name = "user"
    default_description = "A person who needs a task done and answers clarifying questions."

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)


class AssistantRole(Role):
    """Solves the task by calling functions over several turns, asking, or answering finally."""

    default_name = "assistant"
    default_description = "An assistant that plans with functions to solve the user's task."

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (FunctionCallMessage, FinalAnswerMessage, TextMessage, FormatErrorMessage)


class ToolRole(Role):
    """Plays every function: answers a FunctionCallMessage with a FunctionResultMessage."""

    default_name = "tools"
    default_description = "Simulates the functions the assistant calls."

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (FunctionResultMessage,)
