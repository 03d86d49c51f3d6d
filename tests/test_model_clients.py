"""Model clients from config, against the loopback chat server through the real AutoGen client."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from autogen_core.models import SystemMessage, UserMessage

from fake_endpoint import LoopbackChatServer, Reply, chat_completion
from agents.model_clients import ModelClients, ModelConfig
from composition.errors import ConfigurationError

SECRET = "sk-test-SECRET-7f3a9c"
MESSAGES = [SystemMessage(content="Be brief."), UserMessage(content="Say hi.", source="user")]


def echo(body: dict[str, Any]) -> Reply:
    return Reply(chat_completion(json.dumps({"model": body["model"]}), model=body["model"], prompt_tokens=7, completion_tokens=3))


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(echo) as running:
        yield running


@pytest.fixture
def model(server: LoopbackChatServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("BUTTON_TEST_KEY", SECRET)
    return {"provider": "openai", "name": "local-model", "base_url": server.base_url, "api_key_env": "BUTTON_TEST_KEY"}


async def test_overrides_merge_onto_default_and_share_clients(server: LoopbackChatServer, model: dict[str, Any]) -> None:
    clients = ModelClients(model)
    default = clients.get()
    assert clients.get({}) is default
    assert clients.get({"name": "local-model"}) is default
    other = clients.get({"name": "judge-model", "temperature": 0})
    assert other is not default
    await default.create(MESSAGES)
    await other.create(MESSAGES)
    assert [request.body["model"] for request in server.requests] == ["local-model", "judge-model"]
    assert server.requests[1].body["temperature"] == 0
    assert clients.config({"name": "judge-model"}).base_url == server.base_url
    await clients.close()


async def test_usage_counts_requests_and_tokens_per_model_but_not_cache_hits(
    server: LoopbackChatServer, model: dict[str, Any], tmp_path: Any
) -> None:
    clients = ModelClients({**model, "cache_dir": str(tmp_path / "cache")})
    for _ in range(3):
        await clients.get().create(MESSAGES)
    await clients.get({"name": "judge-model"}).create(MESSAGES)  # same messages, other model: not a hit
    assert len(server.requests) == 2
    assert clients.usage() == {
        "local-model": {"requests": 1, "retries": 0, "retries_by_kind": {}, "failed": 0, "cancelled": 0, "cache_hits": 2, "prompt_tokens": 7, "completion_tokens": 3},
        "judge-model": {"requests": 1, "retries": 0, "retries_by_kind": {}, "failed": 0, "cancelled": 0, "cache_hits": 0, "prompt_tokens": 7, "completion_tokens": 3},
    }
    await clients.close()
    again = ModelClients({**model, "cache_dir": str(tmp_path / "cache")})  # a rerun is free
    result = await again.get().create(MESSAGES)
    assert result.cached and len(server.requests) == 2
    await again.close()


async def test_endpoint_failure_is_counted_and_raised(model: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackChatServer(lambda body: Reply({"error": {"message": "boom"}}, status=500, headers={"retry-after-ms": "5"})) as failing:
        clients = ModelClients({**model, "base_url": failing.base_url, "max_retries": 1})
        with pytest.raises(openai.InternalServerError):
            await clients.get().create(MESSAGES)
        assert len(failing.requests) == 2  # one retry, honouring retry-after-ms
        assert clients.usage()["local-model"]["failed"] == 1
        assert clients.usage()["local-model"]["retries_by_kind"] == {"500": 1}
        assert clients.usage()["local-model"]["requests"] == 0
        await clients.close()


def test_missing_key_is_a_one_line_error_naming_the_variable(
    server: LoopbackChatServer, model: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BUTTON_TEST_KEY")
    with pytest.raises(ConfigurationError, match="BUTTON_TEST_KEY") as raised:
        ModelClients(model)
    assert "\n" not in str(raised.value)
    clients = ModelClients({**model, "api_key_env": None})  # keyless local servers are fine
    with pytest.raises(ConfigurationError, match="NOT_SET_TEST_KEY"):
        clients.get({"api_key_env": "NOT_SET_TEST_KEY"})
    assert server.requests == []


def test_bad_values_name_the_field() -> None:
    with pytest.raises(ConfigurationError, match=r"model\.temperature=5"):
        ModelClients({"provider": "openai", "name": "x", "temperature": 5, "api_key_env": None})
    with pytest.raises(ConfigurationError, match=r"model\.max_tokens=True"):  # a yes is not 1 token
        ModelClients({"provider": "openai", "name": "x", "max_tokens": True, "api_key_env": None})
    with pytest.raises(ConfigurationError, match=r"model\.colour"):
        ModelClients({"provider": "openai", "name": "x", "colour": "red", "api_key_env": None})
    with pytest.raises(ConfigurationError, match="offline"):
        ModelClients({"provider": "offline", "name": "offline"}).get()


def test_model_info_lets_unknown_model_names_through() -> None:
    info = ModelConfig(provider="openai", name="qwen2.5:7b-instruct").model_info()
    assert info["family"] == "unknown" and info["vision"] is False and info["structured_output"] is True


async def test_key_reaches_the_server_but_no_repr_dump_or_log(
    server: LoopbackChatServer, model: dict[str, Any], caplog: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    clients = ModelClients({**model, "cache_dir": str(tmp_path)})
    client = clients.get({"name": "second"})
    result = await client.create(MESSAGES)
    assert server.requests[0].headers.get("authorization", server.requests[0].headers.get("Authorization")) == f"Bearer {SECRET}"
    seen = [
        repr(clients),
        repr(client),
        repr(result),
        clients.default.model_dump_json(),
        repr(clients.default),
        clients.config({"name": "second"}).model_dump_json(),
        json.dumps(clients.usage()),
        caplog.text,
    ]
    assert caplog.text  # the libraries did log at DEBUG
    for text in seen:
        assert SECRET not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes()
    await clients.close()
