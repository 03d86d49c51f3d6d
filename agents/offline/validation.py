"""Cached JSON-Schema validators, shared by the tool simulator and the verifier.

Building a jsonschema validator is far more expensive than using one, and a run validates the
same few schemas thousands of times, so validators are cached by the schema's canonical text.
Formats (date, date-time, email, ...) are asserted, not just annotated.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from composition.ids import canonical_json


@lru_cache(maxsize=4096)
def _validator(schema_text: str) -> Validator:
    schema = json.loads(schema_text)
    cls = validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_validator(schema: dict[str, Any]) -> Validator:
    """The (cached) validator of ``schema``, with format checking on."""
    return _validator(canonical_json(schema))


def validation_errors(schema: dict[str, Any], value: Any, limit: int = 3) -> list[str]:
    """Up to ``limit`` readable problems of ``value`` against ``schema``; empty when valid."""
    problems: list[str] = []
    for error in schema_validator(schema).iter_errors(value):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
        if len(problems) >= limit:
            break
    return problems
