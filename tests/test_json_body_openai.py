"""The product's openai client sends exactly the body the stock client sends, without its type walk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from fake_endpoint import LoopbackChatServer, Reply, chat_completion
from agents.json_body_openai import JsonBodyOpenAI

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Today's weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
]
MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Porto?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Porto"}'}}],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": json.dumps({"high_c": 21})},
]
PARAMS: dict[str, Any] = {
    "model": "local-model",
    "messages": MESSAGES,
    "tools": TOOLS,
    "parallel_tool_calls": False,
    "temperature": 0.7,
    "max_tokens": 64,
    "seed": openai.NOT_GIVEN,
    "stop": openai.omit,
    "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}},
    "extra_headers": {"X-Trace": "t-1"},
    "extra_body": {"top_k": 5},
    "extra_query": None,
    "timeout": openai.NOT_GIVEN,
}


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(lambda body: Reply(chat_completion("It is 21 °C.", prompt_tokens=30, completion_tokens=6))) as running:
        yield running


async def _send(client_class: type[openai.AsyncOpenAI], server: LoopbackChatServer) -> Any:
    client = client_class(api_key="sk-local", base_url=server.base_url, max_retries=0)
    try:
        return await client.chat.completions.create(**PARAMS)
    finally:
        await client.close()


async def test_same_body_headers_and_parsed_completion_as_the_stock_client(server: LoopbackChatServer) -> None:
    stock = await _send(openai.AsyncOpenAI, server)
    ours = await _send(JsonBodyOpenAI, server)
    sent_by_stock, sent_by_ours = server.requests
    assert sent_by_ours.body == sent_by_stock.body
    assert "seed" not in sent_by_ours.body and "stop" not in sent_by_ours.body  # not-given values stay out
    assert sent_by_ours.body["top_k"] == 5  # extra_body merges into the body
    headers = {name.lower(): value for name, value in sent_by_ours.headers.items()}
    assert headers["x-trace"] == "t-1"
    assert headers["authorization"] == "Bearer sk-local"
    assert set(headers) == {name.lower() for name in sent_by_stock.headers}
    assert sent_by_ours.path == sent_by_stock.path
    assert isinstance(ours, openai.types.chat.ChatCompletion)
    assert ours.model_dump() == stock.model_dump() | {"id": ours.id, "created": ours.created}


async def test_server_errors_keep_the_openai_exception_types() -> None:
    def overloaded(body: dict[str, Any]) -> Reply:
        return Reply({"error": {"message": "slow down"}}, status=429)

    with LoopbackChatServer(overloaded) as server:
        with pytest.raises(openai.RateLimitError):
            await _send(JsonBodyOpenAI, server)


async def test_streaming_requests_take_the_stock_path(server: LoopbackChatServer) -> None:
    client = JsonBodyOpenAI(api_key="sk-local", base_url=server.base_url, max_retries=0)
    stream = await client.chat.completions.create(**{**PARAMS, "stream": True})
    assert isinstance(stream, openai.AsyncStream)
    await stream.close()
    await client.close()
    assert server.requests[0].body["stream"] is True
