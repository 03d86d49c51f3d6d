"""A call's arguments against its function's ``parameters``: unambiguous coercions, then problems.

Models often write ``"5"`` for an integer or ``5`` for a string. Where the declared type of a
top-level parameter makes the meaning certain, the value is converted and counted (never
silently); anything else that breaks the schema, and every key the schema does not declare,
is a problem the assistant is told about so it can correct the call.
"""

from __future__ import annotations

import math
import re
from typing import Any

from composition.schemas import validation_errors

_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _coerced(declared: Any, value: Any) -> tuple[bool, Any]:
    """``(changed, value)``: the value in the one declared type, when the conversion is exact."""
    if not isinstance(declared, str):
        return False, value
    if isinstance(value, str):
        text = value.strip()
        if declared == "integer" and _INTEGER.fullmatch(text):
            return True, int(text)
        if declared == "number" and _NUMBER.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return True, int(number) if _INTEGER.fullmatch(text) else number
        if declared == "boolean" and text.lower() in ("true", "false"):
            return True, text.lower() == "true"
    if declared == "integer" and isinstance(value, float) and value.is_integer():
        return True, int(value)
    if declared == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return True, str(value)
    return False, value


def coerce_arguments(parameters: dict[str, Any], arguments: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The arguments with exact type conversions applied, and how many were made."""
    properties = parameters.get("properties") or {}
    fixed = dict(arguments)
    count = 0
    for key, value in arguments.items():
        schema = properties.get(key)
        if not isinstance(schema, dict):
            continue
        changed, new = _coerced(schema.get("type"), value)
        if changed:
            fixed[key] = new
            count += 1
    return fixed, count


def argument_problems(parameters: dict[str, Any], arguments: dict[str, Any]) -> list[str]:
    """What is wrong with ``arguments``: undeclared keys first, then the schema's own errors."""
    declared = parameters.get("properties")
    problems = []
    if isinstance(declared, dict):
        undeclared = sorted(set(arguments) - set(declared))
        if undeclared:
            problems.append(f"undeclared argument(s) {', '.join(undeclared)}; the parameters are: {', '.join(declared) or 'none'}")
    return problems + validation_errors(parameters, arguments)
