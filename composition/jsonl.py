"""Append-only JSONL record files that survive a killed writer.

Each record is written as one complete line, unbuffered; on reading, a trailing partial line
(the only damage a SIGKILL can do) is ignored and truncated away before new records are
appended, so a resumed run never duplicates or corrupts anything. A write that fails (a full
disk, a file-size limit) is cut back to the last whole record before the OSError is raised,
so no torn line is left for the next run either.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

Record = TypeVar("Record", bound=BaseModel)

#: errno values meaning the file system will not take our writes (full, read-only, forbidden).
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


def is_write_failure(error: BaseException) -> bool:
    """True for an OSError that means the disk refused a write (not, e.g., a network error)."""
    return isinstance(error, OSError) and error.errno in WRITE_FAILURES


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
        self._handle = path.open("ab", buffering=0)
        self._size = self._handle.seek(0, os.SEEK_END)

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
        """A record already serialized, as read by read_lines (ending in a newline); a write the
        disk refuses is cut back to the last whole record before the error goes on."""
        view = memoryview(line)
        try:
            written = 0
            while written < len(view):
                written += self._handle.write(view[written:]) or 0
        except OSError:
            self._handle.truncate(self._size)
            raise
        self._size += len(view)

    def close(self) -> None:
        try:
            os.fsync(self._handle.fileno())
        finally:
            self._handle.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_whole(path: Path, text: str) -> None:
    """Replace a small file (stats.json, settings.json) whole or not at all: a full disk leaves
    the previous version, never a torn one."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
