"""Strings that match a JSON-Schema ``pattern``, drawn from the parsed regular expression.

Schemas for tools constrain codes and clock times with patterns such as ``^[A-Z]{1,5}$`` or
``^([01][0-9]|2[0-3]):[0-5][0-9]$``. We walk the regex's parse tree (literals, classes,
repeats, groups, alternation, back-references) and draw each piece from the seeded generator.
Look-arounds are not synthesized; the caller checks the result with ``re.search`` and gets
None when the pattern could not be met.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

try:  # the parser moved in Python 3.11; the old name still works but warns
    from re import _constants as sre, _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_PRINTABLE = string.ascii_letters + string.digits + " -_.,"
_CATEGORIES = {
    sre.CATEGORY_DIGIT: string.digits,
    sre.CATEGORY_NOT_DIGIT: string.ascii_letters,
    sre.CATEGORY_SPACE: " ",
    sre.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
    sre.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre.CATEGORY_NOT_WORD: " -.,",
}
_OPEN_REPEAT_EXTRA = 3  # how far past the minimum an open-ended repeat (*, +, {n,}) may go


class _Unsupported(Exception):
    pass


def string_matching(pattern: str, rng: random.Random) -> str | None:
    """A string that ``re.search(pattern, ...)`` accepts, or None if none could be drawn."""
    try:
        parsed = sre_parse.parse(pattern)
        text = _emit(list(parsed), rng, {})
    except (re.error, _Unsupported, IndexError):
        return None
    return text if re.search(pattern, text) else None


def _emit(items: list[tuple[Any, Any]], rng: random.Random, groups: dict[int, str]) -> str:
    return "".join(_one(op, value, rng, groups) for op, value in items)


def _one(op: Any, value: Any, rng: random.Random, groups: dict[int, str]) -> str:
    if op is sre.LITERAL:
        return chr(value)
    if op is sre.NOT_LITERAL:
        return rng.choice([c for c in _PRINTABLE if ord(c) != value])
    if op is sre.ANY:
        return rng.choice(string.ascii_letters)
    if op is sre.IN:
        return _from_class(value, rng)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) or op is getattr(sre, "POSSESSIVE_REPEAT", None):
        low, high, item = value
        high = low + _OPEN_REPEAT_EXTRA if high is sre.MAXREPEAT else high
        return "".join(_emit(list(item), rng, groups) for _ in range(rng.randint(low, high)))
    if op is sre.SUBPATTERN:
        group, _, _, item = value
        text = _emit(list(item), rng, groups)
        if group is not None:
            groups[group] = text
        return text
    if op is sre.BRANCH:
        return _emit(list(rng.choice(value[1])), rng, groups)
    if op is sre.GROUPREF:
        return groups.get(value, "")
    if op is sre.AT:
        return ""
    raise _Unsupported(str(op))


def _from_class(members: list[tuple[Any, Any]], rng: random.Random) -> str:
    allowed: set[str] = set()
    negate = False
    for op, value in members:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            allowed.add(chr(value))
        elif op is sre.RANGE:
            allowed.update(chr(code) for code in range(value[0], value[1] + 1))
        elif op is sre.CATEGORY:
            allowed.update(_CATEGORIES.get(value, ""))
        else:
            raise _Unsupported(str(op))
    choices = sorted(set(_PRINTABLE) - allowed) if negate else sorted(allowed)
    if not choices:
        raise _Unsupported("empty character class")
    return rng.choice(choices)
