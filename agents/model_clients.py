"""Chat-completion clients built from the ``model`` config, cached on disk and metered.

Any OpenAI-compatible endpoint works through ``base_url`` (OpenAI, Azure OpenAI's v1 endpoint,
vLLM, Ollama, llama.cpp server, LM Studio); ``model_info`` is always given explicitly so model
names AutoGen does not know are accepted. The API key is read from the environment variable
named by ``api_key_env`` when a client is built and handed straight to the openai client: it
is never stored in a config, a repr or anything this module returns.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import diskcache
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelInfo,
)
from autogen_ext.cache_store.diskcache import DiskCacheStore
from autogen_ext.models.cache import CHAT_CACHE_VALUE_TYPE, ChatCompletionCache
from autogen_ext.models.openai import BaseOpenAIChatCompletionClient
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.client_wrapper import WrappedClient
from agents.endpoint_limits import EndpointLimiter, EndpointLimits, EndpointPool, LimitedHttpClient
from agents.json_body_openai import JsonBodyOpenAI
from agents.resilience import ResilientClient
from composition.errors import ConfigurationError, field_problems
from composition.ids import canonical_json, content_id

log = logging.getLogger(__name__)

#: What a response cache that cannot be written raises: a full or read-only disk, a locked database.
CACHE_FAULTS = (OSError, sqlite3.Error, diskcache.Timeout)

#: Stands in for the key of local servers that need none (``api_key_env: null``).
NO_KEY = "not-needed"
#: The endpoint of ``base_url: null``, so it shares one limiter with an explicit spelling.
OPENAI_ENDPOINT = "https://api.openai.com/v1"
#: Model fields that do not change what the model answers, so they do not split the cache.
NOT_IN_CACHE_KEY = {"cache_dir", "timeout", "max_retries", "api_key_env"}


class ModelConfig(BaseModel):
    """One model as the config names it. Holds the *name* of the key's variable, never the key."""

    model_config = ConfigDict(extra="forbid", strict=True)  # strict: `max_tokens=true` is an error, not 1

    provider: Literal["offline", "openai"] = "offline"
    name: str = Field(default="offline", min_length=1)
    base_url: str | list[str] | None = Field(
        default=None, description="None means OpenAI's own endpoint; a list, replicas of one model (a pool)."
    )
    api_key_env: str | None = Field(
        default="OPENAI_API_KEY", description="Environment variable holding the key; null for keyless local servers."
    )
    temperature: float | None = Field(default=0.7, ge=0, le=2)
    max_tokens: int | None = Field(default=2048, ge=1)
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, description="Retries on 429, 5xx, timeouts, connection errors, garbage.")
    structured_output: bool = Field(default=True, description="Endpoint accepts response_format json_schema.")
    family: str = Field(default="unknown", description="AutoGen model family; 'unknown' suits most servers.")
    vision: bool = False
    function_calling: bool = True
    json_output: bool = True
    cache_dir: str | None = Field(default=None, description="Disk cache of responses; null disables it.")

    @field_validator("base_url")
    @classmethod
    def _replicas(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list):
            if not value:
                raise ValueError("a pool needs at least one URL (or null for OpenAI's endpoint)")
            if len({url.rstrip("/") for url in value}) != len(value):
                raise ValueError("each replica's URL may appear once")
            return value[0] if len(value) == 1 else value
        return value

    @property
    def endpoints(self) -> list[str]:
        """The replicas' URLs (one for a lone endpoint), without trailing slashes."""
        urls = self.base_url if isinstance(self.base_url, list) else [self.base_url or OPENAI_ENDPOINT]
        return [url.rstrip("/") for url in urls]

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
        raise ConfigurationError("; ".join(field_problems(error, where))) from None


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
    """What one model name cost: answers the endpoint gave (``requests``), extra attempts after
    a transient fault (``retries``, by kind), calls that still failed, requests abandoned in
    flight (``cancelled``: the run stopped needing them; an endpoint may still bill them),
    cache hits, tokens."""

    requests: int = 0
    retries: int = 0
    retries_by_kind: dict[str, int] = Field(default_factory=dict)
    failed: int = 0
    cancelled: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def abandoned(self) -> None:
        self.cancelled += 1

    def retried(self, kind: str) -> None:
        self.retries += 1
        self.retries_by_kind[kind] = self.retries_by_kind.get(kind, 0) + 1

    def record(self, result: CreateResult) -> None:
        if result.cached:
            self.cache_hits += 1
            return
        self.requests += 1
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens


class MeteredClient(WrappedClient):
    """Counts every create call of the client it wraps into a shared :class:`ModelUsage`."""

    def __init__(self, inner: ChatCompletionClient, usage: ModelUsage) -> None:
        super().__init__(inner)
        self.meter = usage

    def __repr__(self) -> str:
        return f"MeteredClient({type(self.inner).__name__})"

    async def create(
        self,
        messages: Sequence[LLMMessage],
        **options: Any,
    ) -> CreateResult:
        try:
            result = await self.inner.create(messages, **options)
        except Exception:
            self.meter.failed += 1
            raise
        self.meter.record(result)
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        **options: Any,
    ) -> AsyncGenerator[str | CreateResult, None]:
        try:
            async for item in self.inner.create_stream(messages, **options):
                if isinstance(item, CreateResult):
                    self.meter.record(item)
                yield item
        except Exception:
            self.meter.failed += 1
            raise


class FallibleCacheStore(DiskCacheStore[CHAT_CACHE_VALUE_TYPE]):
    """A disk cache store that never fails a request: when the cache cannot be read or written
    it warns once and the run goes on uncached (every store of that directory stops using it)."""

    def __init__(self, cache: diskcache.Cache, broken: dict[str, bool]) -> None:
        super().__init__(cache)
        self.broken = broken  # shared by the stores of one cache directory

    def _fault(self, error: BaseException) -> None:
        if not self.broken.get("warned"):
            log.warning("response cache %s cannot be used (%s); the run goes on uncached", self.cache.directory, error)
        self.broken["warned"] = True

    def get(self, key: str, default: CHAT_CACHE_VALUE_TYPE | None = None) -> CHAT_CACHE_VALUE_TYPE | None:
        if self.broken.get("warned"):
            return default
        try:
            return super().get(key, default)
        except CACHE_FAULTS as error:
            self._fault(error)
            return default

    def set(self, key: str, value: CHAT_CACHE_VALUE_TYPE) -> None:
        if self.broken.get("warned"):
            return
        try:
            super().set(key, value)
        except CACHE_FAULTS as error:
            self._fault(error)


class ModelClients:
    """Builds one metered client per distinct model config; stages and roles ask with overrides.

    ``get({"name": "gpt-4o"})`` merges the overrides onto the default ``model`` config, so a
    stage or role that names nothing shares the default client (and its connection pool).
    """

    def __init__(
        self, default: Mapping[str, Any], cache_dir: Path | None = None, limits: EndpointLimits | None = None
    ) -> None:
        self.default = parse_model_config(default)
        self.cache_dir = cache_dir
        self.limits = limits if limits is not None else EndpointLimits()  # validated with runner.* (button.settings)
        self._clients: dict[str, MeteredClient] = {}
        self._caches: dict[Path, tuple[diskcache.Cache, dict[str, bool]] | None] = {}
        self._limiters: dict[str, EndpointLimiter] = {}
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
        limiter = self.pool(config.endpoints)
        openai_client = JsonBodyOpenAI(
            api_key=read_api_key(config),
            base_url=limiter.base_url if config.base_url is not None else None,
            timeout=config.timeout,
            max_retries=0,  # ResilientClient retries, so every attempt is limited and counted
            http_client=LimitedHttpClient(limiter),  # picks the replica, holds its slot per HTTP exchange
        )
        client: ChatCompletionClient = BaseOpenAIChatCompletionClient(
            openai_client,
            create_args={"model": config.name, "temperature": config.temperature, "max_tokens": config.max_tokens},
            model_info=config.model_info(),
            include_name_in_message=False,  # many OpenAI-compatible servers reject `name`
        )
        usage = self._usage.setdefault(config.name, ModelUsage())
        client = ResilientClient(
            client, limiter, usage, max_retries=config.max_retries, max_tokens=config.max_tokens
        )
        cache_root = self.cache_dir if self.cache_dir is not None else config.cache_dir
        cache = self._cache(cache_root, config) if cache_root is not None else None
        if cache is not None:
            client = ChatCompletionCache(client, FallibleCacheStore(*cache))
        return MeteredClient(client, usage)

    def limiter(self, base_url: str | None) -> EndpointLimiter:
        """The one limiter of an endpoint, shared by every model, stage and role that uses it."""
        endpoint = (base_url or OPENAI_ENDPOINT).rstrip("/")
        if endpoint not in self._limiters:
            self._limiters[endpoint] = EndpointLimiter(self.limits, endpoint)
        return self._limiters[endpoint]

    def pool(self, endpoints: Sequence[str]) -> EndpointLimiter | EndpointPool:
        """A lone endpoint's limiter, or a pool over the replicas' (each shared as above)."""
        limiters = [self.limiter(url) for url in endpoints]
        return limiters[0] if len(limiters) == 1 else EndpointPool(limiters)

    def _cache(self, root: str | Path, config: ModelConfig) -> tuple[diskcache.Cache, dict[str, bool]] | None:
        """The cache directory of everything that shapes an answer (the key covers messages and
        create args but not the model); timeouts, retries and the key's variable do not. A
        pool's answers are cached under its set of replicas, whichever replica gave them.
        None, with a warning, when the cache cannot be opened: the run goes on uncached."""
        identity = config.model_dump(exclude=NOT_IN_CACHE_KEY)
        if isinstance(config.base_url, list):
            identity["base_url"] = sorted(config.endpoints)
        directory = Path(root) / content_id("model", identity)
        if directory not in self._caches:
            try:
                self._caches[directory] = (diskcache.Cache(str(directory)), {})
            except CACHE_FAULTS as error:
                log.warning("response cache %s cannot be opened (%s); the run goes on uncached", directory, error)
                self._caches[directory] = None
        return self._caches[directory]

    def endpoints(self) -> dict[str, dict[str, Any]]:
        """Per endpoint URL: answers served, peak requests in flight, the concurrency it ended
        with (below runner.concurrency after adaptive back-offs), and how often it was set aside."""
        return {url: limiter.report() for url, limiter in self._limiters.items()}

    def usage(self) -> dict[str, dict[str, Any]]:
        """Requests (cache hits excluded), retries, failures, cache hits and tokens per model name."""
        return {name: usage.model_dump() for name, usage in self._usage.items()}

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        for cache in self._caches.values():
            if cache is not None:
                cache[0].close()
        self._clients.clear()
        self._caches.clear()
