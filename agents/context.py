"""What a role is told about the conversation it takes part in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from autogen_agentchat.base import ChatAgent
from pydantic import BaseModel, ConfigDict

from composition.models import CompositionalTask

Protocol = Literal["native", "tags"]


class ConversationContext(BaseModel):
    """Per-conversation facts handed to every role when the controller creates it."""

    model_config = ConfigDict(frozen=True)

    task: CompositionalTask
    parallel_calls: bool = True
    protocol: Protocol = "native"
    seed: int = 0


RoleFactory = Callable[[ConversationContext], ChatAgent]
"""Builds a fresh role for one conversation; Hydra's ``_partial_: true`` configs produce these."""
