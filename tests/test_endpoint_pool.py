"""Endpoint pools: replicas of one model behind several URLs, served by real loopback servers.

Each replica here is a small HTTP server of this file that answers every chat completion with
the same text after a short delay, and can be stopped mid-run like a crashed process: it drops
the requests it holds without an answer and refuses new connections.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import UserMessage

from agents.endpoint_limits import EndpointLimiter, EndpointLimits, EndpointPool
from agents.model_clients import ModelClients, parse_model_config
from composition.errors import ConfigurationError
from conftest import read_jsonl, run_button
from fake_endpoint import Reply, answer
from scale_responders import PipelineResponder

ANSWER = "All done."


class Replica:
    """One replica on 127.0.0.1; ``stop_after`` stops it once it has answered that many requests."""

    def __init__(
        self,
        latency: float = 0.02,
        stop_after: int | None = None,
        status: int = 200,
        respond: Callable[[dict[str, Any]], Reply] | None = None,
    ) -> None:
        self.latency = latency
        self.respond = respond
        self.stop_after = stop_after
        self.status = status
        self.served = 0
        self.stopped = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        """Hang up on whatever arrives from now on and close the listening socket."""
        self.stopped.set()
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._server.shutdown()
        self._server.server_close()

    def _admit(self) -> bool:
        """Whether to answer this request; the answer that reaches ``stop_after`` stops the replica."""
        with self._lock:
            if self.stopped.is_set():
                return False
            if self.status == 200:
                self.served += 1
                if self.served == self.stop_after:
                    self.stopped.set()  # later requests are dropped from now on
                    threading.Thread(target=self.stop, daemon=True).start()
            return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, so a stopped replica also breaks open connections

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(replica.latency)
                if not replica._admit():
                    self.close_connection = True  # hang up without an answer, as a killed server does
                    return
                if replica.status != 200:
                    payload = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()
                elif replica.respond is not None:
                    payload = json.dumps(answer(replica.respond, body, self.headers).body).encode()
                else:
                    payload = json.dumps(completion(body["model"])).encode()
                self.send_response(replica.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-pool",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


@pytest.fixture
def replicas(request: pytest.FixtureRequest) -> Iterator[list[Replica]]:
    made = [Replica(**options) for options in request.param]
    yield made
    for replica in made:
        replica.stop()


def pool_clients(replicas: list[Replica], tmp_path: Path | None = None, **limits: Any) -> ModelClients:
    model = {
        "provider": "openai",
        "name": "m",
        "base_url": [replica.base_url for replica in replicas],
        "api_key_env": None,
        "cache_dir": str(tmp_path) if tmp_path else None,
    }
    return ModelClients(model, limits=EndpointLimits(**{"retry_initial_delay": 0.01, "retry_max_delay": 0.05, **limits}))


async def ask(clients: ModelClients, count: int, prefix: str = "q") -> list[str]:
    client = clients.get()
    results = await asyncio.gather(
        *(client.create([UserMessage(content=f"{prefix} {i}", source="user")]) for i in range(count))
    )
    return [str(result.content) for result in results]


@pytest.mark.parametrize("replicas", [[{}, {}]], indirect=True)
async def test_both_replicas_serve_with_each_its_own_slots(replicas: list[Replica]) -> None:
    clients = pool_clients(replicas, concurrency=3)
    try:
        assert await ask(clients, 24) == [ANSWER] * 24
        limiters = [clients.limiter(replica.base_url) for replica in replicas]
    finally:
        await clients.close()
    assert [replica.served for replica in replicas] == [limiter.served for limiter in limiters]
    assert all(replica.served >= 6 for replica in replicas)  # the least-loaded replica gets each request
    assert all(1 <= limiter.peak_in_flight <= 3 for limiter in limiters)


@pytest.mark.parametrize("replicas", [[{}, {"stop_after": 4}]], indirect=True)
async def test_a_stopped_replica_is_set_aside_and_nothing_is_lost(replicas: list[Replica]) -> None:
    clients = pool_clients(replicas, concurrency=4, replica_failures=2, replica_cooldown=60)
    try:
        assert await ask(clients, 40) == [ANSWER] * 40
        usage = clients.usage()["m"]
        stopped = clients.limiter(replicas[1].base_url)
    finally:
        await clients.close()
    assert replicas[1].stopped.is_set() and replicas[1].served == 4
    assert replicas[0].served == 40 - 4 and usage["failed"] == 0
    assert usage["retries"] >= 1  # requests the stopped replica dropped were asked again elsewhere
    assert stopped.set_aside(time.monotonic())


@pytest.mark.parametrize("replicas", [[{}, {}]], indirect=True)
async def test_the_cache_key_does_not_depend_on_the_replica(replicas: list[Replica], tmp_path: Path) -> None:
    first = pool_clients(replicas, tmp_path)
    try:
        await ask(first, 6)
    finally:
        await first.close()
    served = [replica.served for replica in replicas]
    assert all(served)  # the answers came from both replicas
    again = pool_clients(list(reversed(replicas)), tmp_path)  # same pool, listed the other way round
    try:
        assert await ask(again, 6) == [ANSWER] * 6
        assert again.usage()["m"]["cache_hits"] == 6
    finally:
        await again.close()
    assert [replica.served for replica in replicas] == served


@pytest.mark.parametrize("replicas", [[{"status": 429, "latency": 0.0}]], indirect=True)
async def test_adaptive_concurrency_halves_on_429_through_the_client(replicas: list[Replica]) -> None:
    clients = ModelClients(
        {"provider": "openai", "name": "m", "base_url": replicas[0].base_url, "api_key_env": None, "max_retries": 0},
        limits=EndpointLimits(concurrency=8, adaptive=True),
    )
    try:
        with pytest.raises(Exception):
            await ask(clients, 1)
        assert clients.limiter(replicas[0].base_url).concurrency == 4
    finally:
        await clients.close()


def test_aimd_backs_off_once_per_burst_and_grows_back() -> None:
    limiter = EndpointLimiter(EndpointLimits(concurrency=8, adaptive=True), "http://a")
    epoch = limiter.epoch
    limiter.record("congested", epoch)
    limiter.record("timeout", epoch)  # the same burst: requests sent before the back-off
    assert limiter.concurrency == 4
    limiter.record("timeout", limiter.epoch)
    assert limiter.concurrency == 2
    for _ in range(2):
        limiter.record("ok", limiter.epoch)
    assert limiter.concurrency == 3  # one slot per window of successes as wide as the limit
    for _ in range(3 + 4 + 5 + 6 + 7 + 20):
        limiter.record("ok", limiter.epoch)
    assert limiter.concurrency == 8  # and never beyond runner.concurrency
    fixed = EndpointLimiter(EndpointLimits(concurrency=8), "http://b")
    fixed.record("congested", fixed.epoch)
    assert fixed.concurrency == 8  # without runner.adaptive the limit stays put


def test_the_pool_prefers_the_least_loaded_replica_that_is_not_set_aside() -> None:
    limits = EndpointLimits(concurrency=4, replica_failures=2, replica_cooldown=60)
    a, b = EndpointLimiter(limits, "http://a"), EndpointLimiter(limits, "http://b")
    pool = EndpointPool([a, b])
    assert {pool.choose().base_url for _ in range(2)} == {"http://a", "http://b"}  # ties take turns
    b.record("failed", b.epoch)
    b.record("failed", b.epoch)
    assert b.set_aside(time.monotonic())
    assert {pool.choose().base_url for _ in range(4)} == {"http://a"}
    a.set_aside_until = b.set_aside_until + 1
    assert pool.choose() is b  # everyone set aside: the one back soonest


PLAYER = PipelineResponder()  # every stage and role of a run, the same whichever replica answers


@pytest.mark.parametrize(
    "replicas", [[{"latency": 0.03, "respond": PLAYER}, {"latency": 0.03, "stop_after": 5, "respond": PLAYER}]], indirect=True
)
def test_a_run_finishes_when_a_replica_dies_mid_way(replicas: list[Replica], tmp_path: Path) -> None:
    """The whole CLI (LLM stages and assistant) on a pool of two; one replica dies after 5 answers."""
    urls = ",".join(replica.base_url for replica in replicas)
    result = run_button(
        "model=openai",
        f"model.base_url=[{urls}]",
        "model.api_key_env=null",
        "model.cache_dir=null",
        "agents/user=scripted",
        "agents/tool=schema",
        "num_tasks=16",
        "runner.concurrency=2",
        "runner.adaptive=true",
        "runner.retry_initial_delay=0.01",
        f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr
    assert replicas[1].stopped.is_set() and replicas[1].served == 5 and replicas[0].served > 5
    trajectories = read_jsonl(tmp_path / "trajectories.jsonl")
    assert len(trajectories) == 16
    assert {t["termination"] for t in trajectories} == {"final_answer"}  # no conversation lost to the crash
    stats = json.loads((tmp_path / "stats.json").read_text())
    model = next(iter(stats["models"].values()))
    assert model["failed"] == 0 and model["requests"] == replicas[0].served + replicas[1].served
    endpoints = stats["endpoints"]
    assert [endpoints[replica.base_url]["served"] for replica in replicas] == [replica.served for replica in replicas]
    assert endpoints[replicas[1].base_url]["times_set_aside"] >= 1


@pytest.mark.parametrize(
    "urls,problem",
    [([], "a pool needs at least one URL"), (["http://a/v1", "http://a/v1/"], "each replica's URL may appear once")],
)
def test_a_bad_pool_is_one_line(urls: list[str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=f"^model.base_url=.*{problem}") as raised:
        parse_model_config({"provider": "openai", "base_url": urls})
    assert "\n" not in str(raised.value)
    assert parse_model_config({"provider": "openai", "base_url": ["http://a/v1"]}).base_url == "http://a/v1"  # a pool of one
