"""Endpoint slots and budgets; the HTTP client's slots against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from autogen_core.models import UserMessage

from agents.endpoint_limits import EndpointLimiter, EndpointLimits, LimitedHttpClient, PrioritySlots
from fake_endpoint import LoopbackChatServer, Reply, chat_completion

SSE = "".join(f"data: {chunk}\n\n" for chunk in ('{"part": 1}', '{"part": 2}', "[DONE]"))


@pytest.fixture
async def http() -> AsyncIterator[tuple[LoopbackChatServer, LimitedHttpClient]]:
    def answer(body: dict[str, object]) -> Reply:
        if body.get("stream"):
            return Reply(SSE, headers={"Content-Type": "text/event-stream"})
        return Reply(chat_completion("hi"), delay=0.05)

    with LoopbackChatServer(answer) as server:
        client = LimitedHttpClient(EndpointLimiter(EndpointLimits(concurrency=1)))
        yield server, client
        await client.aclose()


def _post(server: LoopbackChatServer, client: LimitedHttpClient, *, stream: bool = False):  # type: ignore[no-untyped-def]
    return client.build_request("POST", f"{server.base_url}/chat/completions", json={"model": "m", "stream": stream})


async def test_a_whole_answer_frees_its_slot_when_send_returns(http: tuple[LoopbackChatServer, LimitedHttpClient]) -> None:
    server, client = http
    answers = await asyncio.gather(*(client.send(_post(server, client)) for _ in range(3)))
    assert [answer.json()["choices"][0]["message"]["content"] for answer in answers] == ["hi"] * 3
    assert client.limiter.in_flight == 0 and client.limiter.peak_in_flight == 1  # one at a time, none left held


async def test_a_streamed_answer_holds_its_slot_until_closed(http: tuple[LoopbackChatServer, LimitedHttpClient]) -> None:
    server, client = http
    streamed = await client.send(_post(server, client, stream=True), stream=True)
    assert client.limiter.in_flight == 1
    waiting = asyncio.create_task(client.send(_post(server, client)))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the only slot is still the stream's
    chunks = [chunk async for chunk in streamed.aiter_text()]
    await streamed.aclose()
    assert "".join(chunks) == SSE
    assert (await asyncio.wait_for(waiting, 2)).status_code == 200
    assert client.limiter.in_flight == 0


async def test_a_failed_exchange_frees_its_slot() -> None:
    client = LimitedHttpClient(EndpointLimiter(EndpointLimits(concurrency=1)))
    for _ in range(2):  # the second would wait forever had the first kept the slot
        with pytest.raises(Exception, match="onnect"):
            await asyncio.wait_for(client.post("http://127.0.0.1:1/v1/chat/completions", json={}), 5)
    assert client.limiter.in_flight == 0
    await client.aclose()


async def test_request_and_token_budgets_hold_requests_back() -> None:
    requests = EndpointLimiter(EndpointLimits(requests_per_minute=5))
    for _ in range(5):
        await requests.budget()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(requests.budget(), 0.1)  # the sixth waits ~12 s
    tokens = EndpointLimiter(EndpointLimits(tokens_per_minute=1000))
    await tokens.budget(max_tokens=600)  # the completion allowance counts against the budget
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(tokens.budget([UserMessage(content="x" * 400, source="user")], max_tokens=500), 0.1)


async def test_a_freed_slot_goes_to_the_least_advanced_waiter() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    served: list[int] = []

    async def wait(priority: int) -> None:
        await slots.acquire(priority)
        served.append(priority)
        slots.release()

    waiters = [asyncio.create_task(wait(priority)) for priority in (5, 1, 3, 1)]
    await asyncio.sleep(0)
    slots.release()
    await asyncio.gather(*waiters)
    assert served == [1, 1, 3, 5]


async def test_a_cancelled_waiter_does_not_lose_the_slot() -> None:
    slots = PrioritySlots(1)
    await slots.acquire(0)
    cancelled = asyncio.create_task(slots.acquire(1))
    await asyncio.sleep(0)
    cancelled.cancel()
    slots.release()
    await asyncio.wait_for(slots.acquire(2), timeout=1)  # the slot is free again, not leaked
