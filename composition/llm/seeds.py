"""Seed conversations: the JSONL file scenario extraction starts from.

Two record shapes are accepted, one per line: OpenAI chat records (``{"messages": [{"role",
"content"}, ...]}``, tool calls allowed) and glaive-function-calling-style records
(``{"chat": "USER: ... ASSISTANT: ..."}``, an optional ``system`` text beside it). The whole
file is read and checked when the source is built, so a bad record stops the run before any
request, with the file and line in the message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from composition.errors import ConfigurationError
from composition.ids import content_id


class SeedFileError(ConfigurationError):
    """The seed file is missing or holds a record we cannot read."""


class SeedConversation(BaseModel):
    id: str
    origin: str  # "file:line", so every scenario can be traced back to its record
    text: str


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: keep the text ones
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict)).strip()
    raise ValueError(f"message content must be a string, a list of parts or null, not {type(content).__name__}")


def _message_line(index: int, message: Any) -> str:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise ValueError(f"messages[{index}] must be an object with a string 'role'")
    text = _content_text(message.get("content"))
    calls = [
        f"{call['function']['name']}({call['function'].get('arguments', '')})"
        for call in message.get("tool_calls") or []
        if isinstance(call, dict) and isinstance(call.get("function"), dict) and "name" in call["function"]
    ]
    if calls:
        text = (text + " " if text else "") + "[calls " + "; ".join(calls) + "]"
    if not text:
        raise ValueError(f"messages[{index}] has neither content nor tool calls")
    return f"{message['role']}: {text}"


def conversation_text(record: Any) -> str:
    """The conversation as plain text; ValueError says what is wrong with the record."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, not {type(record).__name__}")
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        return "\n".join(_message_line(index, message) for index, message in enumerate(messages))
    if "chat" in record:
        chat = record["chat"]
        if not isinstance(chat, str) or not chat.strip():
            raise ValueError("'chat' must be a non-empty string")
        system = record.get("system")
        return f"{system.strip()}\n{chat.strip()}" if isinstance(system, str) and system.strip() else chat.strip()
    raise ValueError(f"a record needs a 'messages' list or a 'chat' text, found keys {sorted(record)}")


def read_seed_conversations(path: str | Path) -> list[SeedConversation]:
    """Every record of the file, or a SeedFileError naming the path (and line) of the problem."""
    path = Path(path)
    if not path.is_file():
        raise SeedFileError(f"seed conversations file not found: {path}")
    conversations: list[SeedConversation] = []
    with path.open(encoding="utf-8") as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError as error:
            raise SeedFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            text = conversation_text(json.loads(line))
        except json.JSONDecodeError as error:
            raise SeedFileError(f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno})") from None
        except ValueError as error:
            raise SeedFileError(f"{path}:{number}: {error}") from None
        conversations.append(SeedConversation(id=content_id("seed", text), origin=f"{path.name}:{number}", text=text))
    if not conversations:
        raise SeedFileError(f"{path}: holds no seed conversations")
    return conversations
