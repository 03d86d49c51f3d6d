"""A simulated OpenAI-compatible endpoint in its own process, metering requests in flight.

It runs in a child process on purpose: a real endpoint's CPU is not the client's, so the
client's Python (one GIL) should not pay for parsing and answering requests. The server is a
small asyncio HTTP/1.1 loop (keep-alive, Content-Length bodies, which is what the openai
client sends); latency is ``uniform(latency - jitter, latency + jitter)`` per request.

Utilization is integrated exactly: every change of the in-flight count adds
``in_flight * elapsed`` to an area, so ``area / (concurrency * wall)`` is the time-weighted
mean of requests in flight divided by the concurrency. ``GET /stats`` reports it; ``GET /sample``
returns a uniform sample of the request bodies, so a bare client can replay the same traffic.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.roles import Answer, Faults, respond
from composition.llm.wire import ROLE_HEADER

REASONS = {200: "OK", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}


@dataclass(frozen=True)
class EndpointSettings:
    latency: float = 0.5
    jitter: float = 0.25
    faults: Faults = Faults()
    seed: int = 0

    def __post_init__(self) -> None:
        if self.latency < 0 or self.jitter < 0:
            raise ValueError(f"latency and jitter must be >= 0 seconds, got {self.latency} and {self.jitter}")

    def delay(self, rng: random.Random) -> float:
        return max(0.0, rng.uniform(self.latency - self.jitter, self.latency + self.jitter))


@dataclass
class Meter:
    """Counts and the exact in-flight area; a snapshot closes the area up to ``now``."""

    requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    area: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    first_begin: float | None = None
    last_end: float | None = None
    _last: float = field(default_factory=time.monotonic)

    def _advance(self) -> None:
        now = time.monotonic()
        self.area += self.in_flight * (now - self._last)
        self._last = now

    def begin(self) -> None:
        self._advance()
        if self.first_begin is None:
            self.first_begin = self._last
        self.requests += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, status: int) -> None:
        self._advance()
        self.in_flight -= 1
        self.last_end = self._last
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def snapshot(self) -> dict[str, Any]:
        self._advance()
        return {
            "requests": self.requests,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "area": self.area,
            "statuses": dict(self.statuses),
            "first_begin": self.first_begin,
            "last_end": self.last_end,
            "at": self._last,
        }


class BodySample:
    """A uniform sample of the request bodies seen (reservoir sampling), for a client to replay."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seen = 0
        self.bodies: list[bytes] = []
        self._rng = random.Random(seed)

    def offer(self, body: bytes) -> None:
        self.seen += 1
        if len(self.bodies) < self.size:
            self.bodies.append(body)
        else:
            slot = self._rng.randrange(self.seen)
            if slot < self.size:
                self.bodies[slot] = body


class Endpoint:
    """The request loop; one instance lives in the child process."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self.meter = Meter()
        self.rng = random.Random(settings.seed)
        self.sample = BodySample(200, settings.seed)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        key, value = line.split(":", 1)
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                answer = await self.handle(method, path, body, headers.get(ROLE_HEADER.lower(), ""))
                extra = "".join(f"{key}: {value}\r\n" for key, value in answer.headers)
                writer.write(
                    (
                        f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Status')}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(answer.body)}\r\n{extra}\r\n"
                    ).encode("latin-1")
                    + answer.body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def handle(self, method: str, path: str, body: bytes, role: str = "") -> Answer:
        if method == "GET" and path == "/stats":
            return Answer(200, json.dumps(self.meter.snapshot()).encode())
        if method == "GET" and path == "/sample":
            return Answer(200, b"[" + b",".join(self.sample.bodies) + b"]")
        if method != "POST" or not path.rstrip("/").endswith("/chat/completions"):
            return Answer(404, json.dumps({"error": {"message": f"no route {method} {path}"}}).encode())
        self.meter.begin()
        self.sample.offer(body)
        status = 500
        try:
            answer = respond(json.loads(body), self.settings.faults, self.rng, role)
            status = answer.status
            if not answer.immediate:
                await asyncio.sleep(self.settings.delay(self.rng))
            return answer
        finally:
            self.meter.end(status)


async def _main(settings: EndpointSettings, port_pipe: Any) -> None:
    endpoint = Endpoint(settings)
    server = await asyncio.start_server(endpoint.serve, "127.0.0.1", 0, backlog=2048)
    port_pipe.send(server.sockets[0].getsockname()[1])
    port_pipe.close()
    async with server:
        await server.serve_forever()


def _child(settings: EndpointSettings, port_pipe: Any) -> None:
    asyncio.run(_main(settings, port_pipe))


class EndpointProcess:
    """Start the endpoint in a child process; ``base_url`` for clients, ``stats()`` for meters."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(settings, send), name="bench-endpoint", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> EndpointProcess:
        self._process.start()
        if not self._receive.poll(30):
            self._process.kill()
            raise RuntimeError("the benchmark endpoint did not start within 30 s")
        self.port = self._receive.recv()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._process.terminate()
        self._process.join(5)

    def stats(self) -> dict[str, Any]:
        return self._get("stats")  # type: ignore[no-any-return]

    def sample(self) -> list[dict[str, Any]]:
        """Up to 200 request bodies drawn uniformly from all the endpoint received."""
        return self._get("sample")  # type: ignore[no-any-return]

    def _get(self, route: str) -> Any:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{route}", timeout=10) as response:
            return json.loads(response.read())

    def describe(self) -> dict[str, Any]:
        return asdict(self.settings)


class InFlightSampler:
    """Polls ``/stats`` from a thread while a run goes on: the in-flight curve, for diagnosis.

    The utilization itself comes from the exact area; the samples only show *when* the endpoint
    was not full (start-up, the drain at the end).
    """

    def __init__(self, endpoint: EndpointProcess, every: float = 0.1) -> None:
        self.endpoint = endpoint
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="in-flight-sampler", daemon=True)

    def _poll(self) -> None:
        while not self._stop.wait(self.every):
            stats = self.endpoint.stats()
            self.samples.append((stats["at"], stats["in_flight"]))

    def __enter__(self) -> InFlightSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def last_full(self, concurrency: int, share: float = 0.9) -> float | None:
        """When in-flight was last at ``share`` of the concurrency or more."""
        full = [at for at, in_flight in self.samples if in_flight >= share * concurrency]
        return full[-1] if full else None
