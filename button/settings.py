"""The structured part of the config, validated before anything runs.

Hydra composes the config; these pydantic models check the values that every run relies on
and turn a bad one into a one-line message naming the field, the value and what is allowed.
Groups stay open (``extra="allow"``) so plug-ins can add their own keys.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.endpoint_limits import EndpointLimits
from composition.errors import ConfigurationError, field_problems
from composition.shard import Shard


class _Group(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)  # strict: `num_tasks=true` is an error, not 1


class EnvironmentSettings(_Group):
    protocol: Literal["native", "tags"] = "native"
    parallel_calls: bool = True
    max_turns: int = Field(default=12, ge=1)
    max_format_errors: int = Field(default=2, ge=0)
    keep_recoveries: bool = False
    distractor_tools: int = Field(default=0, ge=0)


class RunnerSettings(EndpointLimits):
    """Every ``runner`` key, validated here once: the endpoint limits the model clients apply
    (agents.endpoint_limits.EndpointLimits) and what the conversation runner and resume need."""

    model_config = ConfigDict(extra="allow")

    conversations: int | None = Field(default=None, ge=1, description="Conversations in flight; None: 4 x concurrency.")
    conversation_timeout: float | None = Field(default=None, gt=0, description="Seconds per conversation; None: no limit.")
    progress: bool | None = None
    resume: Literal["check", "extend"] = "check"

    @property
    def conversations_in_flight(self) -> int:
        """``conversations``, or enough that no request slot idles while a conversation does
        local work (tool simulation, checks)."""
        return self.conversations if self.conversations is not None else 4 * self.concurrency


class ExportSettings(_Group):
    formats: list[str] = Field(default_factory=list)


class ModelSettings(_Group):
    provider: Literal["offline", "openai"] = "offline"
    name: str = "offline"


class UserSettings(_Group):
    withhold_share: float = Field(default=0.0, ge=0, le=1)


class AgentsSettings(_Group):
    user: UserSettings = Field(default_factory=UserSettings)


class Settings(_Group):
    num_tasks: int = Field(ge=1)
    seed: int = 0
    model: ModelSettings
    environment: EnvironmentSettings
    runner: RunnerSettings
    export: ExportSettings
    agents: AgentsSettings = Field(default_factory=AgentsSettings)


def validate_settings(config: dict[str, Any]) -> Settings:
    """Validate the composed config, raising ConfigurationError with one line per problem."""
    Shard.parse(config.get("shard"))  # a bad shard is its own one-line error
    try:
        return Settings.model_validate(config)
    except ValidationError as error:
        raise ConfigurationError("; ".join(field_problems(error))) from None
