"""JSON-Schema checks, each schema's work done once: validators and meta-schema verdicts, cached.

Building a jsonschema validator is far more expensive than using one, and a run validates the
same few schemas thousands of times (a function's ``parameters`` on every call of it), so
validators are cached; so is the meta-schema check of a schema, since the same function specs
recur constantly. Formats (date, date-time, email, ...) are asserted, not just annotated.
"""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
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

    The same schema object is validated against over and over, so it is first looked up by
    identity, guarded by an equality check against a copy taken when it was cached (an edited
    schema is not served a stale validator); only a new schema pays for its canonical text.
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


def meta_schema_problem(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is not a valid JSON Schema (by the meta-schema of its dialect), or None;
    each distinct schema is checked once."""
    return _meta_schema_problem(canonical_json(schema))


@lru_cache(maxsize=4096)
def _meta_schema_problem(schema_text: str) -> str | None:
    schema = json.loads(schema_text)
    dialect = validator_for(schema) if isinstance(schema, dict) else Draft202012Validator
    try:
        dialect.check_schema(schema)
    except SchemaError as error:
        return error.message
    return None
