"""Whether a text mentions a value: the one place that decides what "states 1,200" means.

Verification asks two questions of free text: did the user (or an earlier tool result) give
this argument value, and does the final answer state this result value. Both need the same
reading of text: case, spacing and punctuation between words do not matter; numbers match
across formats ("1,200", "1200.0", "$1,200", "two" for 2), dates across formats ("June 14,
2025", "14 June 2025", "2025-06-14").
Arguments must match exactly; answers may round ("about 1,929" states 1928.87), so
:meth:`Mentions.states` accepts a number written to fewer decimals when it rounds to it, and
a negative number by its size (a difference of -84.34 is stated as "84.34 lower").

Booleans and nulls are never "mentioned": text says too little about them to decide.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

from composition.values import leaves

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_ISO_DATE = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
)
_MONTH_FIRST = re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+(\d{{4}})\b")
_DAY_FIRST = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b")
_NUMBER = re.compile(
    r"(?<![\w.,])([-+]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+)\b)?(?:\s*(thousand|million|billion)\b)?"
)
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_NUMBER_WORDS = {
    word: float(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_EXACT = 1e-9


def normalize(text: str) -> str:
    """Case-folded, with runs of whitespace as one space."""
    return _SPACE.sub(" ", text.casefold()).strip()


def as_number(value: Any) -> float | None:
    """A number from an int, a float or a purely numeric string ("1,200", "1200.0"); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", text):
            return float(text)
    return None


def as_date(value: Any) -> date | None:
    """The calendar date of an ISO date or date-time string ("2025-06-14", "2025-06-14T10:00Z")."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([tT ].*)?", text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        return None


def same_value(left: Any, right: Any) -> bool:
    """Equal after normalising: numbers by value, dates by day, text by case and spacing;
    lists item by item, objects key by key."""
    if isinstance(left, dict) or isinstance(right, dict):
        return (
            isinstance(left, dict)
            and isinstance(right, dict)
            and left.keys() == right.keys()
            and all(same_value(left[key], right[key]) for key in left)
        )
    if isinstance(left, list) or isinstance(right, list):
        return (
            isinstance(left, list)
            and isinstance(right, list)
            and len(left) == len(right)
            and all(same_value(a, b) for a, b in zip(left, right))
        )
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        return left is right or left == right
    numbers = as_number(left), as_number(right)
    if numbers[0] is not None and numbers[1] is not None:
        return _close(numbers[0], numbers[1])
    return normalize(str(left)) == normalize(str(right))


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _EXACT * max(1.0, abs(a), abs(b))


@dataclass(frozen=True)
class _Number:
    value: float
    half_unit: float  # half the last written digit's place: "1,929" -> 0.5, "6.4 million" -> 50,000


class Mentions:
    """A text read once for its dates, numbers and words (each on first need), then asked about
    many values."""

    def __init__(self, text: str) -> None:
        self.text = normalize(text)

    @cached_property
    def dates(self) -> set[date]:
        found: set[date] = set()
        for pattern, order in ((_ISO_DATE, "ymd"), (_MONTH_FIRST, "mdy"), (_DAY_FIRST, "dmy")):
            for match in pattern.finditer(self.text):
                parsed = _date_of(match.groups(), order)
                if parsed is not None:
                    found.add(parsed)
        return found

    @cached_property
    def numbers(self) -> list[_Number]:
        # read with the ISO dates blanked out, so 2025-06-14 does not also say 2025 or -6
        digits = [_number_of(match) for match in _NUMBER.finditer(_ISO_DATE.sub(" ", self.text))]
        return digits + [_Number(_NUMBER_WORDS[word], 0.5) for word in _NUMBER_WORD.findall(self.text)]

    @cached_property
    def words(self) -> str:
        return f" {' '.join(_WORD.findall(self.text))} "

    def mentions(self, value: Any) -> bool:
        """Whether every leaf of ``value`` appears exactly (after normalising) in the text."""
        found = [self._has(leaf, rounding=False) for leaf in leaves(value)]
        return bool(found) and all(found)

    def states(self, value: Any) -> bool:
        """Whether the text states ``value``: every leaf, numbers possibly rounded."""
        found = [self._has(leaf, rounding=True) for leaf in leaves(value)]
        return bool(found) and all(found)

    def _has(self, leaf: Any, rounding: bool) -> bool:
        number = as_number(leaf)
        if number is not None:  # a number is read as a number only, never as digits inside a date
            # an answer says a negative difference in words ("84.34 lower"), so its size states it
            wanted = {number, abs(number)} if rounding else {number}
            return any(self._number_matches(seen, value, rounding) for seen in self.numbers for value in wanted)
        day = as_date(leaf)
        if day is not None and day in self.dates and (rounding or len(str(leaf).strip()) == 10):
            return True  # a date-time is given exactly only when written out; an answer may give its day
        phrase = normalize(str(leaf))
        words = " ".join(_WORD.findall(phrase))
        if words:  # punctuation does not matter: "Dune Part Two" is "Dune: Part Two"
            return f" {words} " in self.words
        return bool(phrase) and phrase in self.text

    @staticmethod
    def _number_matches(seen: _Number, number: float, rounding: bool) -> bool:
        if _close(seen.value, number):
            return True
        # a value exactly half-way may be rounded either way ("12.38" or "12.37" for 12.375)
        return rounding and abs(seen.value - number) <= seen.half_unit * (1 + 1e-9)


def _date_of(groups: tuple[str, ...], order: str) -> date | None:
    parts = dict(zip(order, groups))
    month = _MONTHS[parts["m"].rstrip(".")] if not parts["m"].isdigit() else int(parts["m"])
    try:
        return date(int(parts["y"]), month, int(parts["d"]))
    except ValueError:
        return None


def _number_of(match: re.Match[str]) -> _Number:
    sign, whole, decimals, exponent, scale = match.groups()
    value = float(whole.replace(",", "") + (f".{decimals}" if decimals else ""))
    factor = (_SCALES[scale] if scale else 1.0) * 10 ** int(exponent or 0)  # "3.2e-05" as written by code
    places = len(decimals) if decimals else 0
    return _Number(value=(-value if sign == "-" else value) * factor, half_unit=0.5 * 10**-places * factor)
