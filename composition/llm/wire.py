"""What travels beside a chat-completions body: who is asking, and what AutoGen does not keep.

A role or stage names itself with :func:`speaking_as` around its model call; the HTTP client
(:class:`TaggingHttpClient`, the base of the endpoint limiter's client) sends that name as the
``X-Button-Role`` header, so a server, a proxy's logs or a test double can tell requests apart
without reading prompts. On the way back it notes what AutoGen's ``CreateResult`` drops: the
``message.refusal`` text, and beside tool calls the reasoning and the server's finish reason. Both travel in context variables, which asyncio copies into the
tasks the openai client starts, so concurrent conversations never mix them up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx2
import openai

ROLE_HEADER = "X-Button-Role"


@dataclass
class Exchange:
    """What the server said about one model call beyond the parsed completion: the refusal
    text, the reasoning beside tool calls (AutoGen keeps ``reasoning_content`` only beside
    text), and its own finish reason (AutoGen reports ``tool_calls`` whenever calls came back,
    even when the server cut them off at the token limit)."""

    refusal: str = ""
    reasoning: str = ""
    finish_reason: str = ""


_role: ContextVar[str | None] = ContextVar("button_role", default=None)
_exchange: ContextVar[Exchange | None] = ContextVar("button_exchange", default=None)


@contextmanager
def speaking_as(role: str) -> Iterator[Exchange]:
    """Requests made inside carry ``role`` in their header; the yielded Exchange fills in."""
    exchange = Exchange()
    role_token = _role.set(role)
    exchange_token = _exchange.set(exchange)
    try:
        yield exchange
    finally:
        _role.reset(role_token)
        _exchange.reset(exchange_token)


def _note(exchange: Exchange, body: Any) -> None:
    try:
        choice = body["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        return
    if not isinstance(message, dict):
        return
    refusal = message.get("refusal")
    exchange.refusal = refusal if isinstance(refusal, str) else ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    exchange.reasoning = reasoning if isinstance(reasoning, str) else ""
    finish = choice.get("finish_reason") if isinstance(choice, dict) else None
    exchange.finish_reason = finish if isinstance(finish, str) else ""


class TaggingHttpClient(openai.DefaultAsyncHttpxClient):  # type: ignore[misc,valid-type]
    """The openai client's HTTP client with the role header out and the refusal noted back."""

    async def send(self, request: httpx2.Request, *, stream: bool = False, **options: Any) -> httpx2.Response:
        role = _role.get()
        if role is not None:
            request.headers[ROLE_HEADER] = role
        response = await super().send(request, stream=stream, **options)
        exchange = _exchange.get()
        if exchange is not None and not stream and response.status_code == 200:
            try:
                _note(exchange, json.loads(response.content))
            except (ValueError, UnicodeDecodeError):
                pass  # not JSON: the openai client reports that itself
        return response
