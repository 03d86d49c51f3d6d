"""Surviving an endpoint's faults: retries, and what is left turned into a clear error.

:class:`ResilientClient` takes each attempt's request and token budget from the endpoint's
:class:`~agents.endpoint_limits.EndpointLimiter` and retries transient faults (429, 408/409,
5xx, timeouts, connection errors, garbage bodies) with exponential backoff and full jitter,
honouring ``Retry-After``/``retry-after-ms`` (tenacity).

The openai client's own retries are switched off (``max_retries=0``) so every attempt passes
the limiter (a retry counts against the rate limits, and no slot sits idle while a request
backs off) and every retry is counted per model.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Protocol

import openai
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from agents.client_wrapper import WrappedClient
from agents.endpoint_limits import EndpointLimiter, EndpointLimits, EndpointPool

log = logging.getLogger(__name__)

#: HTTP statuses worth another attempt: timeouts, lock conflicts, rate limits, server errors.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


class MalformedResponseError(openai.APIError):
    """The endpoint answered 200 with a body that is not a chat completion (garbage, HTML, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, None, body=None)  # type: ignore[arg-type]  # no request object to give


#: What the openai/AutoGen parsing raises on a body that is not a chat completion.
_MALFORMED = (json.JSONDecodeError, ValidationError, TypeError, KeyError, IndexError, AttributeError)


def retry_after(error: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms``, ``retry-after`` seconds or date)."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed is not None:
                return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    return None


def fault_kind(error: BaseException) -> str | None:
    """A short name for a transient fault (``429``, ``500``, ``timeout``, ...); None: do not retry."""
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        return "connection"
    if isinstance(error, MalformedResponseError):
        return "malformed"
    if isinstance(error, openai.APIStatusError):
        status = error.status_code
        if status in TRANSIENT_STATUSES or status >= 500:
            return str(status)
    return None


class RetryCounter(Protocol):
    """Where retries and abandoned requests are counted (agents.model_clients.ModelUsage)."""

    def retried(self, kind: str) -> None: ...

    def abandoned(self) -> None: ...


class _Waits:
    """Retry-After when the server gives one, else exponential backoff with full jitter."""

    def __init__(self, limits: EndpointLimits) -> None:
        self.cap = limits.retry_max_delay
        self.backoff = wait_random_exponential(multiplier=limits.retry_initial_delay, max=limits.retry_max_delay)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        asked = retry_after(error) if error is not None else None
        return min(asked, self.cap) if asked is not None else self.backoff(state)


class ResilientClient(WrappedClient):
    """Takes each attempt's request and token budget from the endpoint's limiter; retries transient faults."""

    def __init__(
        self,
        inner: ChatCompletionClient,
        limiter: EndpointLimiter | EndpointPool,
        counter: RetryCounter,
        *,
        max_retries: int,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(inner)
        self.limiter = limiter
        self.counter = counter
        self.max_retries = max_retries
        self.max_tokens = max_tokens
        self._waits = _Waits(limiter.limits)

    def __repr__(self) -> str:
        return f"ResilientClient({type(self.inner).__name__}, max_retries={self.max_retries})"

    def _count(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        kind = fault_kind(error) if error is not None else None
        self.counter.retried(kind or "other")
        log.debug("retrying after %s (attempt %d): %s", kind, state.attempt_number, error)

    async def _once(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        await self.limiter.budget(messages, self.max_tokens)
        try:
            return await self.inner.create(messages, **kwargs)
        except asyncio.CancelledError:
            self.counter.abandoned()
            raise
        except _MALFORMED as error:
            raise MalformedResponseError(
                f"the endpoint's answer is not a chat completion ({type(error).__name__}: {error})"
            ) from error

    async def create(
        self,
        messages: Sequence[LLMMessage],
        **options: Any,
    ) -> CreateResult:
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda error: fault_kind(error) is not None),
            stop=stop_after_attempt(self.max_retries + 1),
            wait=self._waits,
            before_sleep=self._count,
            reraise=True,
        )
        result: CreateResult = await retrying(self._once, messages, **options)
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        **options: Any,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Limited like create, not retried: a half-delivered stream cannot be replayed unseen."""
        await self.limiter.budget(messages, self.max_tokens)
        async for item in self.inner.create_stream(messages, **options):
            yield item
