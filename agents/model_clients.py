"""Chat-completion clients built from the ``model`` config, cached on disk and metered.

Any OpenAI-compatible endpoint works through ``base_url`` (OpenAI, Azure OpenAI's v1 endpoint,
vLLM, Ollama, llama.cpp server, LM Studio); ``model_info`` is always given explicitly so model
names AutoGen does not know are accepted. The API key is read from the environment variable
named by ``api_key_env`` when a client is built and handed straight to the openai client: it
is never stored in a config, a repr or anything this module returns.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import diskcache
from autogen_core import CancellationToken
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,  # type: ignore[attr-defined]
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.cache_store.diskcache import DiskCacheStore
from autogen_ext.models.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from composition.errors import ConfigurationError
from composition.ids import canonical_json, content_id

#: Stands in for the key of local servers that need none (``api_key_env: null``).
NO_KEY = "not-needed"


class ModelConfig(BaseModel):
    """One model as the config names it. Holds the *name* of the key's variable, never the key."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["offline", "openai"] = "offline"
    name: str = Field(default="offline", min_length=1)
    base_url: str | None = Field(default=None, description="None means OpenAI's own endpoint.")
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="Environment variable holding the key; null for keyless local servers."
    )
    temperature: float | None = Field(default=0.7, ge=0, le=2)
    max_tokens: int | None = Field(default=2048, ge=1)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, description="Retries of the openai client on 429/5xx/timeouts.")
    structured_output: bool = Field(default=True, description="Endpoint accepts response_format json_schema.")
    family: str = Field(default="unknown", description="AutoGen model family; 'unknown' suits most servers.")
    vision: bool = False
    function_calling: bool = True
    json_output: bool = True
    cache_dir: str | None = Field(default=None, description="Disk cache of responses; null disables it.")

    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=self.vision,
            function_calling=self.function_calling,
            json_output=self.json_output,
            family=self.family,
            structured_output=self.structured_output,
        )


def parse_model_config(values: Mapping[str, Any], where: str = "model") -> ModelConfig:
    """Validate a model mapping, turning problems into one line naming ``where.<field>``."""
    try:
        return ModelConfig.model_validate(dict(values))
    except ValidationError as error:
        problems = [
            f"{where}.{'.'.join(str(part) for part in item['loc'])}={item.get('input')!r}: {item['msg']}"
            for item in error.errors()
        ]
        raise ConfigurationError("; ".join(problems)) from None


def read_api_key(config: ModelConfig) -> str:
    """The key from the environment; a missing one is a ConfigurationError naming the variable."""
    if config.api_key_env is None:
        return NO_KEY
    key = os.environ.get(config.api_key_env, "")
    if not key:
        raise ConfigurationError(
            f"environment variable {config.api_key_env} is not set; it must hold the API key for model "
            f"{config.name!r} (or set model.api_key_env to another variable, or null for a keyless local server)"
        )
    return key


class ModelUsage(BaseModel):
    """What one model name cost: requests that reached the endpoint, failures, cache hits, tokens."""

    requests: int = 0
    failed: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def record(self, result: CreateResult) -> None:
        if result.cached:
            self.cache_hits += 1
            return
        self.requests += 1
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens


class MeteredClient(ChatCompletionClient):
    """Counts every create call of the client it wraps into a shared :class:`ModelUsage`."""

    def __init__(self, inner: ChatCompletionClient, usage: ModelUsage) -> None:
        self.inner = inner
        self.meter = usage

    def __repr__(self) -> str:
        return f"MeteredClient({type(self.inner).__name__})"

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        try:
            result = await self.inner.create(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                extra_create_args=extra_create_args,
                cancellation_token=cancellation_token,
            )
        except Exception:
            self.meter.failed += 1
            raise
        self.meter.record(result)
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        try:
            async for item in self.inner.create_stream(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                extra_create_args=extra_create_args,
                cancellation_token=cancellation_token,
            ):
                if isinstance(item, CreateResult):
                    self.meter.record(item)
                yield item
        except Exception:
            self.meter.failed += 1
            raise

    async def close(self) -> None:
        await self.inner.close()

    def actual_usage(self) -> RequestUsage:
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self.inner.total_usage()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.count_tokens(messages, tools=tools)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.remaining_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:  # type: ignore[override]
        return self.inner.capabilities  # type: ignore[no-any-return]

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


class ModelClients:
    """Builds one metered client per distinct model config; stages and roles ask with overrides.

    ``get({"name": "gpt-4o"})`` merges the overrides onto the default ``model`` config, so a
    stage or role that names nothing shares the default client (and its connection pool).
    """

    def __init__(self, default: Mapping[str, Any], cache_dir: Path | None = None) -> None:
        self.default = parse_model_config(default)
        self.cache_dir = cache_dir
        self._clients: dict[str, MeteredClient] = {}
        self._caches: list[diskcache.Cache] = []
        self._usage: dict[str, ModelUsage] = {}
        if self.default.provider != "offline":
            read_api_key(self.default)  # fail before any request, not at the first stage

    def __repr__(self) -> str:
        return f"ModelClients(default={self.default.name!r}, clients={len(self._clients)})"

    def config(self, overrides: Mapping[str, Any] | None = None) -> ModelConfig:
        merged = {**self.default.model_dump(), **dict(overrides or {})}
        return parse_model_config(merged)

    def get(self, overrides: Mapping[str, Any] | None = None) -> ChatCompletionClient:
        config = self.config(overrides)
        key = canonical_json(config.model_dump())
        if key not in self._clients:
            self._clients[key] = self._build(config)
        return self._clients[key]

    def _build(self, config: ModelConfig) -> MeteredClient:
        if config.provider == "offline":
            raise ConfigurationError(
                "model.provider is 'offline', which has no chat client; choose a model preset such as model=openai"
            )
        client: ChatCompletionClient = OpenAIChatCompletionClient(
            model=config.name,
            api_key=read_api_key(config),
            base_url=config.base_url,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            timeout=config.timeout,
            max_retries=config.max_retries,
            model_info=config.model_info(),
            include_name_in_message=False,  # many OpenAI-compatible servers reject `name`
        )
        cache_root = self.cache_dir if self.cache_dir is not None else config.cache_dir
        if cache_root is not None:
            # The cache key covers messages and create args but not the model, so each config
            # gets its own directory and two models never answer for each other.
            directory = Path(cache_root) / content_id("model", config.model_dump(exclude={"cache_dir"}))
            cache = diskcache.Cache(str(directory))
            self._caches.append(cache)
            client = ChatCompletionCache(client, DiskCacheStore[CHAT_CACHE_VALUE_TYPE](cache))
        return MeteredClient(client, self._usage.setdefault(config.name, ModelUsage()))

    def usage(self) -> dict[str, dict[str, int]]:
        """Requests (cache hits excluded), failures, cache hits and tokens per model name."""
        return {name: usage.model_dump() for name, usage in self._usage.items()}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        for cache in self._caches:
            cache.close()
        self._clients.clear()
        self._caches.clear()
