"""Keeping an endpoint busy without overrunning it, and surviving its faults.

:class:`EndpointLimiter` is shared by every client built for one endpoint (``base_url``): at
most ``concurrency`` requests in flight, optionally at most so many requests and tokens per
minute (aiolimiter's leaky buckets). :class:`ResilientClient` sends each request through it and
retries transient faults (429, 408/409, 5xx, timeouts, connection errors, garbage bodies) with
exponential backoff and full jitter, honouring ``Retry-After``/``retry-after-ms`` (tenacity).

The openai client's own retries are switched off (``max_retries=0``) so every attempt passes
the limiter (a retry counts against the rate limits, and no slot sits idle while a request
backs off) and every retry is counted per model.
"""

from __future__ import annotations

import asyncio
import email.utils
import heapq
import itertools
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import openai
from aiolimiter import AsyncLimiter
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from agents.client_wrapper import WrappedClient

log = logging.getLogger(__name__)

#: HTTP statuses worth another attempt: timeouts, lock conflicts, rate limits, server errors.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


class EndpointLimits(BaseModel):
    """The ``runner`` knobs that bound what one endpoint is asked to do."""

    model_config = ConfigDict(extra="ignore")

    concurrency: int = Field(default=16, ge=1, description="Requests in flight per endpoint.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="None: no request-rate limit.")
    tokens_per_minute: float | None = Field(default=None, gt=0, description="None: no token-rate limit.")
    retry_initial_delay: float = Field(default=0.5, ge=0, description="Seconds; doubles per retry, fully jittered.")
    retry_max_delay: float = Field(default=60.0, ge=0, description="Cap of one wait, Retry-After included.")


_conversation_requests: ContextVar[list[int] | None] = ContextVar("conversation_requests", default=None)


def begin_conversation() -> None:
    """Mark the current task as one conversation: its requests queue by how many it has made.

    The runner calls this in each conversation's task (the roles' own sub-tasks inherit it).
    Serving the least-advanced conversation first keeps conversations finishing together, so
    the endpoint is not left half idle while a few long ones drain at the end of a run.
    Requests outside any conversation (the bottom-up stages) go first: they feed new work.
    """
    _conversation_requests.set([0])


def _next_priority() -> int:
    progress = _conversation_requests.get()
    if progress is None:
        return 0
    progress[0] += 1
    return progress[0]


class PrioritySlots:
    """A semaphore whose freed slot goes to the waiter with the lowest priority (FIFO on ties)."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrival), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class EndpointLimiter:
    """Admission to one endpoint: a concurrency slot, then request and token budgets."""

    def __init__(self, limits: EndpointLimits) -> None:
        self.limits = limits
        self._slots = PrioritySlots(limits.concurrency)
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        self._requests = AsyncLimiter(rpm, 60) if rpm else None
        self._tokens = AsyncLimiter(tpm, 60) if tpm else None
        self.in_flight = 0
        self.peak_in_flight = 0

    @asynccontextmanager
    async def slot(self, tokens: int = 0) -> AsyncIterator[None]:
        """Hold one of the endpoint's request slots; ``tokens`` is the request's estimated cost."""
        await self._slots.acquire(_next_priority())
        try:
            if self._requests is not None:
                await self._requests.acquire()
            if self._tokens is not None and tokens > 0:
                await self._tokens.acquire(min(float(tokens), self._tokens.max_rate))
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                yield
            finally:
                self.in_flight -= 1
        finally:
            self._slots.release()


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


def estimate_tokens(messages: Sequence[LLMMessage], max_tokens: int | None) -> int:
    """What a request may cost against a tokens-per-minute budget: ~4 characters per prompt
    token plus the completion allowance (providers reserve ``max_tokens`` the same way)."""
    characters = sum(len(m.content) if isinstance(m.content, str) else len(str(m.content)) for m in messages)
    return characters // 4 + (max_tokens or 0)


class ResilientClient(WrappedClient):
    """Sends each request through the endpoint's limiter and retries transient faults."""

    def __init__(
        self,
        inner: ChatCompletionClient,
        limiter: EndpointLimiter,
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
        async with self.limiter.slot(estimate_tokens(messages, self.max_tokens)):
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
        async with self.limiter.slot(estimate_tokens(messages, self.max_tokens)):
            async for item in self.inner.create_stream(messages, **options):
                yield item
