"""How much one endpoint is asked to do at once: request slots, request and token budgets.

Every client built for one endpoint (``base_url``) shares one :class:`EndpointLimiter`. Its
``concurrency`` slots are held by :class:`LimitedHttpClient` around each HTTP exchange only,
from sending the request to closing its response. Building a request and parsing the answer
are the client's CPU, not the endpoint's time: a slot held through them would leave the
endpoint idle, and the pooled connection with it, whenever the client is busy. The request and
token budgets (aiolimiter's leaky buckets) are taken once per attempt by
``agents.resilience.ResilientClient``, where the messages are known, before the request is built.

A model may sit behind several replicas (``model.base_url`` a list): an :class:`EndpointPool`
sends each exchange to the replica with the least load, each replica keeping its own limiter.
With ``adaptive`` a limiter halves its concurrency on a 429 or a timeout and grows it back by
one slot per window of successes (AIMD); a replica that keeps failing is set aside for a while.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
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

    model_config = ConfigDict(extra="ignore", strict=True)  # strict: `true` is not a concurrency of 1

    concurrency: int = Field(default=16, ge=1, description="Requests in flight per endpoint.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="None: no request-rate limit.")
    tokens_per_minute: float | None = Field(default=None, gt=0, description="None: no token-rate limit.")
    retry_initial_delay: float = Field(default=0.5, ge=0, description="Seconds; doubles per retry, fully jittered.")
    retry_max_delay: float = Field(default=60.0, ge=0, description="Cap of one wait, Retry-After included.")
    adaptive: bool = Field(default=False, description="AIMD: halve concurrency on 429/timeouts, regrow on success.")
    replica_failures: int = Field(default=3, ge=1, description="Failures in a row that set a pool's replica aside.")
    replica_cooldown: float = Field(default=30.0, gt=0, description="Seconds a failing replica is set aside.")


log = logging.getLogger(__name__)


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
    """A semaphore whose freed slot goes to the waiter with the lowest priority (FIFO on ties).

    ``limit`` may change while slots are held: a smaller one takes effect as holders release,
    a larger one wakes waiters at once.
    """

    def __init__(self, slots: int) -> None:
        self._limit = slots
        self.held = 0
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    @property
    def limit(self) -> int:
        return self._limit

    @limit.setter
    def limit(self, slots: int) -> None:
        self._limit = slots
        self._wake()

    @property
    def waiting(self) -> int:
        return sum(not waiter.done() for _, _, waiter in self._waiters)

    async def acquire(self, priority: int) -> None:
        if self.held < self._limit and not self._waiters:
            self.held += 1
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
        self.held -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.held < self._limit:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                self.held += 1  # handed over: the waiter holds it from now
                waiter.set_result(None)


def estimate_tokens(messages: Sequence[LLMMessage], max_tokens: int | None) -> int:
    """What a request may cost against a tokens-per-minute budget: ~4 characters per prompt
    token plus the completion allowance (providers reserve ``max_tokens`` the same way)."""
    characters = sum(len(m.content) if isinstance(m.content, str) else len(str(m.content)) for m in messages)
    return characters // 4 + (max_tokens or 0)


class Budgets:
    """Request and token budgets per minute (aiolimiter's leaky buckets); None: unlimited."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None) -> None:
        self._requests = AsyncLimiter(requests_per_minute, 60) if requests_per_minute else None
        self._tokens = AsyncLimiter(tokens_per_minute, 60) if tokens_per_minute else None

    async def take(self, messages: Sequence[LLMMessage], max_tokens: int | None) -> None:
        if self._requests is not None:
            await self._requests.acquire()
        if self._tokens is not None:
            tokens = estimate_tokens(messages, max_tokens)
            if tokens > 0:
                await self._tokens.acquire(min(float(tokens), self._tokens.max_rate))


def exchange_outcome(status: int | None, error: BaseException | None) -> str:
    """``ok``, ``congested`` (429), ``timeout``, ``unreachable`` (no connection could be made:
    nothing listens there) or ``failed`` (5xx, a dropped connection, a protocol error)."""
    if isinstance(error, httpx2.TimeoutException):
        return "timeout"
    if isinstance(error, httpx2.ConnectError):
        return "unreachable"
    if error is not None:
        return "failed"
    if status == 429:
        return "congested"
    return "failed" if status is not None and status >= 500 else "ok"


class EndpointLimiter:
    """One endpoint's request slots (least-advanced conversation first), rate budgets and health."""

    def __init__(self, limits: EndpointLimits, base_url: str = "") -> None:
        self.limits = limits
        self.base_url = base_url.rstrip("/")
        self._slots = PrioritySlots(limits.concurrency)
        self._budgets = Budgets(limits.requests_per_minute, limits.tokens_per_minute)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.served = 0
        self.failures_in_a_row = 0
        self.set_aside_until = 0.0
        self.times_set_aside = 0
        self.epoch = 0  # bumped by each back-off, so one burst of 429s halves the concurrency once
        self._successes = 0

    @property
    def concurrency(self) -> int:
        """The slots allowed now: ``limits.concurrency``, or less while backing off."""
        return self._slots.limit

    @property
    def load(self) -> float:
        """Requests held or waiting per allowed slot."""
        return (self._slots.held + self._slots.waiting) / self._slots.limit

    def set_aside(self, now: float) -> bool:
        return now < self.set_aside_until

    async def budget(self, messages: Sequence[LLMMessage] = (), max_tokens: int | None = None) -> None:
        """Wait until the request and token budgets allow one more request of these messages
        and completion allowance (the tokens are only estimated when there is a token budget)."""
        await self._budgets.take(messages, max_tokens)

    def route(self, request: httpx2.Request) -> tuple[EndpointLimiter, httpx2.Request]:
        """A lone endpoint serves every request itself (see EndpointPool.route)."""
        return self, request

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

    def record(self, outcome: str, epoch: int) -> None:
        """Learn from one exchange begun at ``epoch``: back off, grow back, count failures."""
        if outcome == "ok":
            self.served += 1
            self.failures_in_a_row = 0
            self._grow()
            return
        if outcome in ("congested", "timeout") and self.limits.adaptive and epoch == self.epoch:
            self.epoch += 1
            self._successes = 0
            self._slots.limit = max(1, self._slots.limit // 2)
            log.info("%s: concurrency down to %d after a %s", self.base_url, self._slots.limit, outcome)
        if outcome in ("failed", "timeout", "unreachable"):
            self.failures_in_a_row += 1
            # nothing listening is no passing fault: set the replica aside at once, so the retry
            # goes to another one
            if self.failures_in_a_row >= self.limits.replica_failures or outcome == "unreachable":
                self.set_aside_until = time.monotonic() + self.limits.replica_cooldown
                self.times_set_aside += 1
                log.warning(
                    "%s: %d failures in a row; set aside for %.0f s", self.base_url, self.failures_in_a_row,
                    self.limits.replica_cooldown,
                )

    def report(self) -> dict[str, Any]:
        """What stats.json shows of this endpoint."""
        return {
            "served": self.served,
            "peak_in_flight": self.peak_in_flight,
            "concurrency": self.concurrency,
            "times_set_aside": self.times_set_aside,
        }

    def _grow(self) -> None:
        """One more slot after as many successes as there are slots (TCP's additive increase)."""
        if not self.limits.adaptive or self._slots.limit >= self.limits.concurrency:
            return
        self._successes += 1
        if self._successes >= self._slots.limit:
            self._successes = 0
            self._slots.limit += 1


class EndpointPool:
    """Replicas of one model behind several URLs, each with its own limiter.

    The openai client is built for the first replica's URL; :meth:`route` moves each request
    to the replica with the least load among those not set aside (all of them set aside: the
    one whose pause ends first). The request and token budgets are the per-endpoint ones times
    the number of replicas, taken before a replica is chosen.
    """

    def __init__(self, replicas: Sequence[EndpointLimiter]) -> None:
        if not replicas:
            raise ValueError("an endpoint pool needs at least one replica")
        self.replicas = list(replicas)
        self.limits = replicas[0].limits
        count = len(self.replicas)
        rpm, tpm = self.limits.requests_per_minute, self.limits.tokens_per_minute
        self._budgets = Budgets(rpm and rpm * count, tpm and tpm * count)
        self._turn = itertools.count(1)
        self._last_chosen = {id(replica): 0 for replica in self.replicas}

    @property
    def base_url(self) -> str:
        return self.replicas[0].base_url

    async def budget(self, messages: Sequence[LLMMessage] = (), max_tokens: int | None = None) -> None:
        await self._budgets.take(messages, max_tokens)

    def choose(self) -> EndpointLimiter:
        now = time.monotonic()
        ready = [replica for replica in self.replicas if not replica.set_aside(now)]
        if not ready:
            return min(self.replicas, key=lambda replica: replica.set_aside_until)
        chosen = min(ready, key=lambda r: (r.load, r.failures_in_a_row, self._last_chosen[id(r)]))
        self._last_chosen[id(chosen)] = next(self._turn)
        return chosen

    def route(self, request: httpx2.Request) -> tuple[EndpointLimiter, httpx2.Request]:
        """The chosen replica, and the request with its URL moved onto that replica's base URL."""
        replica = self.choose()
        url = str(request.url)
        if replica is self.replicas[0] or not url.startswith(self.base_url + "/"):
            return replica, request
        request.url = httpx2.URL(replica.base_url + url[len(self.base_url) :])
        request.headers["Host"] = request.url.netloc.decode("ascii")
        return replica, request


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

    def __init__(self, limiter: EndpointLimiter | EndpointPool, **options: Any) -> None:
        super().__init__(**options)
        self.limiter = limiter

    async def send(self, request: httpx2.Request, *, stream: bool = False, **options: Any) -> httpx2.Response:
        endpoint, request = self.limiter.route(request)
        release = await endpoint.acquire()
        epoch = endpoint.epoch
        try:
            response = await super().send(request, stream=stream, **options)
        except asyncio.CancelledError:
            release()
            raise
        except BaseException as error:
            release()
            endpoint.record(exchange_outcome(None, error), epoch)
            raise
        endpoint.record(exchange_outcome(response.status_code, None), epoch)
        if not stream:
            release()
        else:
            response.stream = _ReleasingStream(response.stream, release)
        return response
