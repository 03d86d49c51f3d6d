"""Append-only JSONL record files that survive a killed writer.

Each record is written as one complete line with a single write call and flushed; on reading,
a trailing partial line (the only damage a SIGKILL can do) is ignored and truncated away
before new records are appended, so a resumed run never duplicates or corrupts anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

Record = TypeVar("Record", bound=BaseModel)


def read_lines(path: Path) -> Iterator[bytes]:
    """Yield every complete record of a JSONL file as its line's bytes; a missing file yields nothing."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # the tail of an interrupted write
            if raw.strip():
                yield raw


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """Yield every complete record of a JSONL file; a missing file yields nothing."""
    for raw in read_lines(path):
        yield json.loads(raw)


class JsonlWriter:
    """Appends pydantic records to a JSONL file, one whole line per record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_partial_tail()
        self._handle = path.open("ab")

    def _drop_partial_tail(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb+") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                handle.truncate(end)

    def write(self, record: BaseModel | dict[str, Any]) -> None:
        text = record.model_dump_json() if isinstance(record, BaseModel) else json.dumps(record, ensure_ascii=False)
        self.write_line(text.encode("utf-8") + b"\n")

    def write_line(self, line: bytes) -> None:
        """A record already serialized, as read by read_lines (ending in a newline)."""
        self._handle.write(line)
        self._handle.flush()

    def close(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
