"""Content-addressed identifiers: a rerun or a resumed run names every record the same."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace, so equal content gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def call_key(function: str, arguments: Any) -> str:
    """What makes two calls the same call: the function and its arguments, however ordered."""
    return canonical_json([function, arguments])


def content_id(prefix: str, payload: Any, seed: int | None = None) -> str:
    """A short stable id such as ``task-3f2a9c0d1e4b5a6f`` derived from the payload and the seed."""
    digest = hashlib.sha256(canonical_json([payload, seed]).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"
