"""The fake endpoint: a small OpenAI-compatible chat-completions server on 127.0.0.1.

It speaks real HTTP, so the real openai and AutoGen clients do the talking. What it answers
is decided by a *responder*: a function from the request's JSON body to a :class:`Reply`,
which may also ask for a delay, an HTTP error status, extra headers or a raw (broken) body.
While a responder runs, :func:`request_role` names the role or stage that asked, from the
``X-Button-Role`` header the product sends (composition/llm/wire.py), so doubles never have to
recognise a role by a prompt's wording. tests/misbehaviour.py wraps any responder to play the
known misbehaviours of real servers.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from composition.llm.wire import ROLE_HEADER


@dataclass
class Reply:
    """One HTTP answer. ``body`` is JSON-encoded unless it is already a string."""

    body: dict[str, Any] | str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Responder = Callable[[dict[str, Any]], Reply]

_handling = threading.local()


def request_role() -> str:
    """The ``X-Button-Role`` of the request being answered (empty when it carries none)."""
    return getattr(_handling, "role", "")


def answer(responder: Responder, body: dict[str, Any], headers: Mapping[str, str]) -> Reply:
    """``responder``'s reply to one request; responders read its role with :func:`request_role`.
    Any loopback server of the tests answers through this, so responders work behind each."""
    _handling.role = headers.get(ROLE_HEADER, "")
    return responder(body)

_completion_ids = itertools.count()


def chat_completion(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    *,
    model: str = "loopback-model",
    finish_reason: str | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
) -> dict[str, Any]:
    """A chat.completion body with one choice; ``tool_calls`` are ``{"name", "arguments"}`` dicts."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{next(_completion_ids)}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"] if isinstance(call["arguments"], str) else json.dumps(call["arguments"]),
                },
            }
            for call in tool_calls
        ]
    return {
        "id": f"chatcmpl-{next(_completion_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a request (timeout, cancel) is expected here, not news."""


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class LoopbackChatServer:
    """Serve ``POST /v1/chat/completions`` on 127.0.0.1 from a background thread.

    Use as a context manager; ``base_url`` is what a client's ``base_url`` should be.
    Every request is recorded in ``requests`` (headers included, so tests can check what a
    client sent) unless ``record=False``, which benchmarks use to keep memory flat.
    """

    def __init__(self, responder: Responder, port: int = 0, record: bool = True) -> None:
        self.responder = responder
        self.record = record
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._server.request_queue_size = 1024
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="loopback-chat", daemon=True
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LoopbackChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                """Quiet: tests and benchmarks read their own output."""

            def do_POST(self) -> None:  # noqa: N802 - stdlib naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if server.record:
                    with server._lock:
                        server.requests.append(RecordedRequest(self.path, dict(self.headers), body))
                with server._lock:
                    server.in_flight += 1
                try:
                    if not self.path.rstrip("/").endswith("/chat/completions"):
                        reply = Reply({"error": {"message": f"no route {self.path}"}}, status=404)
                    else:
                        reply = answer(server.responder, body, self.headers)
                    if reply.delay > 0:
                        time.sleep(reply.delay)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                data = payload.encode("utf-8")
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
