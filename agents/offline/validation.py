"""Cached JSON-Schema validators, shared by the tool simulator and the verifier.

Building a jsonschema validator is far more expensive than using one, and a run validates the
same few schemas thousands of times, so validators are cached by the schema's canonical text.
Formats (date, date-time, email, ...) are asserted, not just annotated.
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
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


_BY_IDENTITY_SIZE = 4096
_by_identity: OrderedDict[int, tuple[dict[str, Any], dict[str, Any], Validator]] = OrderedDict()


def schema_validator(schema: dict[str, Any]) -> Validator:
    """The (cached) validator of ``schema``, with format checking on.

    The same schema object is validated against over and over (a function's ``parameters`` on
    every call of it), so it is first looked up by identity, guarded by an equality check
    against a copy taken when it was cached (an edited schema is not served a stale
    validator); only a new schema pays for its canonical text.
    """
    entry = _by_identity.get(id(schema))
    if entry is not None and entry[0] is schema and entry[1] == schema:
        return entry[2]
    validator = _validator(canonical_json(schema))
    _by_identity[id(schema)] = (schema, copy.deepcopy(schema), validator)
    if len(_by_identity) > _BY_IDENTITY_SIZE:
        _by_identity.popitem(last=False)
    return validator


def validation_errors(schema: dict[str, Any], value: Any, limit: int = 3) -> list[str]:
    """Up to ``limit`` readable problems of ``value`` against ``schema``; empty when valid."""
    problems: list[str] = []
    for error in schema_validator(schema).iter_errors(value):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
        if len(problems) >= limit:
            break
    return problems
