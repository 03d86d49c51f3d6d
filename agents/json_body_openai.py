"""An openai client whose chat completions post AutoGen's request body as it is.

``AsyncOpenAI.chat.completions.create`` walks every request body against the
``CompletionCreateParams`` TypedDicts before sending it (aliases, dates, files, iterables to
lists). For chat requests none of that applies: AutoGen already hands over plain JSON (lists of
message dicts, tool schemas as dicts), and the walk visits every message, every union member of
its type and every key of every tool schema, on every request. At high concurrency it was the
largest single cost of the client (about a quarter of its CPU per request). This client sends
the same body through the openai client's public ``post`` instead: its authentication,
retries, timeouts, HTTP client, error types and ``ChatCompletion`` parsing are unchanged.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import openai
from openai.resources.chat import AsyncChat, AsyncCompletions
from openai.types.chat import ChatCompletion

#: create() keywords that shape the HTTP request rather than its body, and the
#: RequestOptions key each one becomes.
_REQUEST_OPTIONS = {"extra_headers": "headers", "extra_query": "params", "extra_body": "extra_json", "timeout": "timeout"}


def _given(value: Any) -> bool:
    return not isinstance(value, (openai.NotGiven, openai.Omit))


class JsonBodyCompletions(AsyncCompletions):
    """``create`` for non-streaming JSON bodies; streaming and every other method are the stock resource's."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        super().__init__(client)
        self._poster = client

    async def create(self, **params: Any) -> Any:  # type: ignore[override]
        if params.get("stream"):
            return await super().create(**params)
        requested = {option: params.pop(keyword, None) for keyword, option in _REQUEST_OPTIONS.items()}
        options = {option: value for option, value in requested.items() if value is not None and _given(value)}
        body = {key: value for key, value in params.items() if _given(value)}
        return await self._poster.post("/chat/completions", body=body, cast_to=ChatCompletion, options=options)  # type: ignore[arg-type]


class _JsonBodyChat(AsyncChat):
    def __init__(self, client: openai.AsyncOpenAI) -> None:
        super().__init__(client)
        self._completions = JsonBodyCompletions(client)

    @cached_property
    def completions(self) -> AsyncCompletions:
        return self._completions


class JsonBodyOpenAI(openai.AsyncOpenAI):
    """``AsyncOpenAI`` whose ``chat.completions.create`` skips the per-request type walk."""

    @cached_property
    def chat(self) -> AsyncChat:
        return _JsonBodyChat(self)

