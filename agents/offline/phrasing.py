"""Varied wording for the offline roles, read from ``phrases/<role>.json``.

Each key of a phrase file holds interchangeable templates; a ``Phrasing`` picks one per use
with the role's own ``random.Random`` (seeded by seed and task), so the same conversation is
worded the same on every run while different conversations read differently. Values are
written with their unit ("412.5 km", "21.5 °C", "3.2%").
"""

from __future__ import annotations

import json
import math
import random
from functools import lru_cache
from importlib import resources
from typing import Any

ATTACHED_UNITS = frozenset({"%"})


@lru_cache(maxsize=8)
def phrasebook(role: str) -> dict[str, Any]:
    """The phrase file of ``role`` (e.g. 'oracle'), read once per process."""
    text = (resources.files("agents.offline") / "phrases" / f"{role}.json").read_text(encoding="utf-8")
    return json.loads(text)


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Phrasing:
    """Picks and fills templates of one phrase file with a seeded generator."""

    def __init__(self, role: str, rng: random.Random) -> None:
        self.book = phrasebook(role)
        self.rng = rng

    def say(self, key: str, **fields: str) -> str:
        """A filled variant of ``key``; a field ``x`` is also offered capitalised as ``X``."""
        template = self.rng.choice(self.book[key])
        values = {**fields, **{cap(name): cap(value) for name, value in fields.items()}}
        return cap(template.format(**values)) if template else ""


def number(value: Any) -> str:
    """A number as people write it in an answer: no trailing '.0', at most two decimals, and a
    small one with four significant digits written out (0.000032, never 3.2e-05)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    places = 2 if abs(value) >= 1 else 3 - math.floor(math.log10(abs(value)))
    return f"{value:.{places}f}".rstrip("0").rstrip(".")


#: From this size on, a measured amount is written with thousands separators (7,500,000 people);
#: below it stay years (1865) and four-digit amounts, which people write without them.
GROUPED_FROM = 10_000


def with_unit(value: Any, unit: str | None) -> str:
    """``value`` followed by its unit, if it has one and is a number. Only amounts with a unit
    are grouped: a bare number may be an identifier, which must keep its digits together."""
    text = number(value)
    if not unit or isinstance(value, bool) or not isinstance(value, (int, float)):
        return text
    if abs(value) >= GROUPED_FROM:
        whole, _, decimals = text.partition(".")
        text = f"{int(whole):,}" + (f".{decimals}" if decimals else "")
    return f"{text}{unit}" if unit in ATTACHED_UNITS else f"{text} {unit}"
