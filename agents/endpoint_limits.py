"""How much one endpoint is asked to do at once: request slots, request and token budgets.

Every client built for one endpoint (``base_url``) shares one :class:`EndpointLimiter`. Its
``concurrency`` slots are held by :class:`LimitedHttpClient` around each HTTP exchange only,
from sending the request to closing its response. Building a request and parsing the answer
are the client's CPU, not the endpoint's time: a slot held through them would leave the
endpoint idle, and the pooled connection with it, whenever the client is busy. The request and
token budgets (aiolimiter's leaky buckets) are taken once per attempt by
``agents.resilience.ResilientClient``, where the messages are known, before the request is built.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextvars import ContextVar
from typing import Any

import httpx2
from aiolimiter import AsyncLimiter
from autogen_core.models import LLMMessage
from pydantic import BaseModel, ConfigDict, Field

from composition.llm.wire import TaggingHttpClient


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


def estimate_tokens(messages: Sequence[LLMMessage], max_tokens: int | None) -> int:
    """What a request may cost against a tokens-per-minute budget: ~4 characters per prompt
    token plus the completion allowance (providers reserve ``max_tokens`` the same way)."""
    characters = sum(len(m.content) if isinstance(m.content, str) else len(str(m.content)) for m in messages)
    return characters // 4 + (max_tokens or 0)


class EndpointLimiter:
    """One endpoint's request slots (least-advanced conversation first) and rate budgets."""

    def __init__(self, limits: EndpointLimits) -> None:
        self.limits = limits
        self._slots = PrioritySlots(limits.concurrency)
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        self._requests = AsyncLimiter(rpm, 60) if rpm else None
        self._tokens = AsyncLimiter(tpm, 60) if tpm else None
        self.in_flight = 0
        self.peak_in_flight = 0

    async def budget(self, messages: Sequence[LLMMessage] = (), max_tokens: int | None = None) -> None:
        """Wait until the request and token budgets allow one more request of these messages
        and completion allowance (the tokens are only estimated when there is a token budget)."""
        if self._requests is not None:
            await self._requests.acquire()
        if self._tokens is not None:
            tokens = estimate_tokens(messages, max_tokens)
            if tokens > 0:
                await self._tokens.acquire(min(float(tokens), self._tokens.max_rate))

    async def acquire(self) -> Callable[[], None]:
        """Take a request slot; returns the release, which frees it once however often it is called."""
        await self._slots.acquire(_next_priority())
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.in_flight -= 1
                self._slots.release()

        return release


class _ReleasingStream(httpx2.AsyncByteStream):
    """A streamed response body that frees its endpoint slot when it is closed."""

    def __init__(self, inner: httpx2.AsyncByteStream, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._release()


class LimitedHttpClient(TaggingHttpClient):
    """The openai client's HTTP client, holding one of the endpoint's slots per exchange.

    It tags each request with the asking role and notes refusals (composition/llm/wire.py).

    A whole answer is read before ``send`` returns, so its slot is free by then; a streamed
    one keeps the slot until the caller closes the stream.
    """

    def __init__(self, limiter: EndpointLimiter, **options: Any) -> None:
        super().__init__(**options)
        self.limiter = limiter

    async def send(self, request: httpx2.Request, *, stream: bool = False, **options: Any) -> httpx2.Response:
        release = await self.limiter.acquire()
        try:
            response = await super().send(request, stream=stream, **options)
        except BaseException:
            release()
            raise
        if not stream:
            release()
        else:
            response.stream = _ReleasingStream(response.stream, release)
        return response
