"""Seed conversations: the records scenario extraction starts from.

Three record shapes are accepted: OpenAI chat records (``{"messages": [{"role", "content"},
...]}``, tool calls allowed), glaive-function-calling-style records (``{"chat": "USER: ...
ASSISTANT: ..."}``, an optional ``system`` text beside it) and ShareGPT records
(``{"conversations": [{"from", "value"}, ...]}``). They come from a JSONL file (read line by
line here, so an error names the line) or from anything the Hugging Face ``datasets`` library
reads: a JSON, Parquet or CSV file, a folder saved with ``save_to_disk``, or a Hub dataset id
(its ``train`` split; that needs network). Everything is read and checked when the source is
built, so a bad record stops the run before any request, with the file and line (or row) in
the message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
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


def _sharegpt_line(index: int, turn: Any) -> str:
    if not isinstance(turn, dict) or not isinstance(turn.get("from"), str):
        raise ValueError(f"conversations[{index}] must be an object with a string 'from'")
    value = turn.get("value")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"conversations[{index}] needs a non-empty string 'value'")
    return f"{turn['from']}: {value.strip()}"


def _listed(value: Any) -> Any:
    """A list column that a CSV file stores as JSON text, decoded; anything else unchanged."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def conversation_text(record: Any) -> str:
    """The conversation as plain text; ValueError says what is wrong with the record."""
    if not isinstance(record, dict):
        raise ValueError(f"a record must be a JSON object, not {type(record).__name__}")
    if record.get("messages") is not None:
        messages = _listed(record["messages"])
        if not isinstance(messages, list) or not messages:
            raise ValueError("'messages' must be a non-empty list")
        return "\n".join(_message_line(index, message) for index, message in enumerate(messages))
    if record.get("conversations") is not None:
        turns = _listed(record["conversations"])
        if not isinstance(turns, list) or not turns:
            raise ValueError("'conversations' must be a non-empty list")
        return "\n".join(_sharegpt_line(index, turn) for index, turn in enumerate(turns))
    if record.get("chat") is not None:
        chat = record["chat"]
        if not isinstance(chat, str) or not chat.strip():
            raise ValueError("'chat' must be a non-empty string")
        system = record.get("system")
        return f"{system.strip()}\n{chat.strip()}" if isinstance(system, str) and system.strip() else chat.strip()
    raise ValueError(f"a record needs a 'messages' list or a 'chat' text (or a ShareGPT 'conversations' list), found keys {sorted(record)}")


#: Files read line by line (errors name the line); .json files are read here too (an array of
#: records may mix shapes, which Arrow cannot); any other file or folder goes to ``datasets``.
JSON_LINES = {".jsonl", ".ndjson"}
#: Suffixes of seed files: a missing path with one of these is a missing file, not a Hub id.
FILE_TYPES = {*JSON_LINES, ".json", ".parquet", ".csv", ".tsv", ".arrow"}
#: What a Hub dataset id looks like (``owner/name``), tried only when no such path exists.
HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


def _json_lines(path: Path) -> Iterator[tuple[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError as error:
            raise SeedFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield f"{number}", json.loads(line)
        except json.JSONDecodeError as error:
            raise SeedFileError(f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno})") from None


def _json_array(path: Path) -> Iterator[tuple[str, Any]]:
    """A .json file: an array of records (read here, so records of mixed shapes are fine), or JSON lines."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SeedFileError(f"{path}: not UTF-8 text ({error.reason})") from None
    except json.JSONDecodeError:
        yield from _json_lines(path)
        return
    if not isinstance(data, list):
        raise SeedFileError(f"{path}: a .json seed file holds an array of records (or one record per line)")
    for number, record in enumerate(data, start=1):
        yield f"row {number}", record


def _dataset_rows(source: str, path: Path | None) -> Iterator[tuple[str, Any]]:
    """Rows of anything ``datasets`` reads: a file by its extension, a saved or data folder, a Hub id."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # our one-line error says what went wrong
    logging.getLogger("huggingface_hub").setLevel(logging.ERROR)  # nor one line per Hub retry
    try:
        if path is not None and path.is_dir() and any((path / name).is_file() for name in ("state.json", "dataset_dict.json")):
            loaded: Any = datasets.load_from_disk(str(path))
        elif path is not None and path.is_file():
            kind = {".parquet": "parquet", ".csv": "csv", ".tsv": "csv", ".arrow": "arrow"}.get(path.suffix)
            if kind is None:
                raise SeedFileError(f"{source}: unknown seed file type {path.suffix!r}; use .jsonl, .json, .parquet, .csv or a dataset folder")
            options = {"delimiter": "\t"} if path.suffix == ".tsv" else {}
            loaded = datasets.load_dataset(kind, data_files=str(path), split="train", **options)
        else:
            loaded = datasets.load_dataset(source, split="train")
    except SeedFileError:
        raise
    except Exception as error:  # datasets raises many kinds; all mean "cannot read this source"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SeedFileError(f"{source}: cannot be read as a dataset ({first})") from None
    if isinstance(loaded, datasets.DatasetDict):
        loaded = loaded["train"] if "train" in loaded else next(iter(loaded.values()))
    for number, row in enumerate(loaded, start=1):
        yield f"row {number}", row


def _records(source: str | Path) -> tuple[str, Iterable[tuple[str, Any]]]:
    """The source's display name and its (position, record) pairs."""
    path = Path(source)
    if path.is_file() and path.suffix in JSON_LINES:
        return path.name, _json_lines(path)
    if path.is_file() and path.suffix == ".json":
        return path.name, _json_array(path)
    if path.exists():
        return path.name, _dataset_rows(str(path), path)
    if HUB_ID.fullmatch(str(source)) and not str(source).startswith((".", "/")) and path.suffix not in FILE_TYPES:
        return str(source), _dataset_rows(str(source), None)
    raise SeedFileError(f"seed conversations file not found: {path}")


def read_seed_conversations(source: str | Path) -> list[SeedConversation]:
    """Every record of the source, or a SeedFileError naming it (and the line or row) of the problem."""
    name, records = _records(source)
    conversations: list[SeedConversation] = []
    for position, record in records:
        try:
            text = conversation_text(record)
        except ValueError as error:
            separator = ":" if position.isdigit() else ": "
            raise SeedFileError(f"{source}{separator}{position}: {error}") from None
        conversations.append(SeedConversation(id=content_id("seed", text), origin=f"{name}:{position}", text=text))
    if not conversations:
        raise SeedFileError(f"{source}: holds no seed conversations")
    return conversations
