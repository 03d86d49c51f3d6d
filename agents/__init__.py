"""The roles of the top-down phase, as AutoGen agents: user, assistant and tool simulator."""

from agents.base import AssistantRole, Role, ToolRole, UserRole
from agents.context import ConversationContext, RoleFactory
from agents.messages import (
    ROLE_MESSAGE_TYPES,
    FinalAnswerMessage,
    FormatErrorMessage,
    FunctionCallMessage,
    FunctionResultMessage,
)

__all__ = [
    "ROLE_MESSAGE_TYPES",
    "AssistantRole",
    "ConversationContext",
    "FinalAnswerMessage",
    "FormatErrorMessage",
    "FunctionCallMessage",
    "FunctionResultMessage",
    "Role",
    "RoleFactory",
    "ToolRole",
    "UserRole",
]
