"""Walking JSON values: the scalar leaves that carry what a value says."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def leaves(value: Any) -> Iterator[Any]:
    """The scalar leaves of a JSON value, depth first (booleans and nulls say too little: left out)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    elif not (isinstance(value, bool) or value is None):
        yield value
