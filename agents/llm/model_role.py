"""The constructor the LLM user and tool simulator share: a role played by a model client."""

from __future__ import annotations

from autogen_core.models import ChatCompletionClient

from agents.base import Role
from agents.context import ConversationContext


class ModelRole(Role):
    """A role whose ``model_client`` is asked again, up to ``retries`` times, after an unusable
    answer. Listed before the role's own base (``class LLMUser(ModelRole, UserRole)``), so the
    name, description and message types stay the role's."""

    def __init__(
        self,
        context: ConversationContext,
        model_client: ChatCompletionClient,
        name: str | None = None,
        description: str | None = None,
        retries: int = 2,
    ) -> None:
        super().__init__(context, name, description)
        self.model_client = model_client
        self.retries = retries
        self._start()
