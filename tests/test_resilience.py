"""Endpoint limits and retries, through ModelClients and the real AutoGen/openai clients over loopback."""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from autogen_core.models import SystemMessage, UserMessage

from fake_endpoint import LoopbackChatServer, Reply, chat_completion
from agents.endpoint_limits import EndpointLimits
from agents.model_clients import ModelClients
from agents.resilience import retry_after
from composition.llm.structured import JsonAnswer, Rejection, ask_json
from pydantic import BaseModel

MESSAGES = [SystemMessage(content="Be brief."), UserMessage(content="Say hi.", source="user")]
FAST = {"retry_initial_delay": 0.01, "retry_max_delay": 0.2}


class Greeting(BaseModel):
    text: str


def ok(body: dict[str, Any]) -> Reply:
    return Reply(chat_completion(json.dumps({"text": "hi"}), model=body["model"]))


class Script:
    """Replies from a list in order (the last one repeats), recording when each request came."""

    def __init__(self, *replies: Reply | None) -> None:
        self.replies = list(replies)
        self.times: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            self.times.append(time.perf_counter())
            reply = self.replies[min(len(self.times), len(self.replies)) - 1]
        return reply if reply is not None else ok(body)


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    """A server per test, so requests a previous test left in flight never land in this one."""
    with LoopbackChatServer(ok) as running:
        yield running


def clients_for(server: LoopbackChatServer, limits: dict[str, Any] | None = None, **model: Any) -> ModelClients:
    config = {"provider": "openai", "name": "m", "base_url": server.base_url, "api_key_env": None, **model}
    return ModelClients(config, limits=EndpointLimits(**{**FAST, **(limits or {})}))


async def test_429_waits_as_long_as_retry_after_says_and_is_counted(server: LoopbackChatServer) -> None:
    server.responder = script = Script(Reply({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.15"}), None)
    clients = clients_for(server, {"retry_max_delay": 5})
    result = await clients.get().create(MESSAGES)
    assert json.loads(result.content) == {"text": "hi"}
    assert len(script.times) == 2 and script.times[1] - script.times[0] >= 0.15
    usage = clients.usage()["m"]
    assert (usage["requests"], usage["retries"], usage["retries_by_kind"], usage["failed"]) == (1, 1, {"429": 1}, 0)
    await clients.close()


async def test_server_errors_back_off_then_give_up_with_the_error(server: LoopbackChatServer) -> None:
    server.responder = script = Script(Reply({"error": {"message": "boom"}}, status=503))
    clients = clients_for(server, max_retries=2)
    with pytest.raises(openai.APIStatusError):
        await clients.get().create(MESSAGES)
    assert len(script.times) == 3
    usage = clients.usage()["m"]
    assert usage["retries_by_kind"] == {"503": 2} and usage["failed"] == 1 and usage["requests"] == 0
    server.responder = Script(Reply({"error": {"message": "bad"}}, status=400))  # not transient: no retry
    with pytest.raises(openai.BadRequestError):
        await clients.get().create(MESSAGES)
    assert clients.usage()["m"]["retries"] == 2
    await clients.close()


async def test_timeouts_and_garbage_bodies_are_retried(server: LoopbackChatServer) -> None:
    slow = ok({"model": "m"})
    slow.delay = 0.3
    server.responder = Script(slow, Reply("this is not json {"), Reply({"id": "no choices"}), None)
    clients = clients_for(server, timeout=0.1)
    result = await clients.get().create(MESSAGES)
    assert json.loads(result.content) == {"text": "hi"}
    assert clients.usage()["m"]["retries_by_kind"] == {"timeout": 1, "malformed": 2}
    await clients.close()


async def test_faults_left_after_retries_and_cut_off_answers_become_rejections(server: LoopbackChatServer) -> None:
    clients = clients_for(server, max_retries=1)
    server.responder = Script(Reply("<html>bad gateway</html>"))
    answer = await ask_json(clients.get(), MESSAGES, JsonAnswer.of(Greeting))
    assert isinstance(answer, Rejection) and answer.reason == "endpoint_error" and "not a chat completion" in answer.detail
    server.responder = Script(Reply(chat_completion('{"text": "h', finish_reason="length")))
    answer = await ask_json(clients.get(), MESSAGES, JsonAnswer.of(Greeting), retries=1)
    assert answer == Rejection("truncated", "the answer was cut off at the token limit")
    await clients.close()


async def test_concurrency_cap_holds_across_every_client_of_an_endpoint(server: LoopbackChatServer) -> None:
    seen: list[int] = []

    def counting(body: dict[str, Any]) -> Reply:
        seen.append(server.in_flight)
        reply = ok(body)
        reply.delay = 0.05
        return reply

    server.responder = counting
    clients = clients_for(server, {"concurrency": 3})
    models = [clients.get({"name": name}) for name in ("user-model", "assistant-model", "stage-model")]
    messages = [[*MESSAGES, UserMessage(content=str(i), source="user")] for i in range(18)]
    await asyncio.gather(*(models[i % 3].create(m) for i, m in enumerate(messages)))
    assert len(seen) == 18 and max(seen) == 3  # never more, and the slots were used
    assert clients.limiter(server.base_url + "/").peak_in_flight == 3
    other = clients.limiter("http://127.0.0.1:1/v1")
    assert other is not clients.limiter(server.base_url)  # another endpoint has its own slots
    await clients.close()


def test_retry_after_reads_milliseconds_seconds_and_dates() -> None:
    class Response:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

    class Error(Exception):
        def __init__(self, headers: dict[str, str]) -> None:
            self.response = Response(headers)

    assert retry_after(Error({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    assert retry_after(Error({"retry-after": "2"})) == 2.0
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after(Error({"retry-after": later})) <= 30  # type: ignore[operator]
    assert retry_after(Error({})) is None and retry_after(ValueError()) is None
