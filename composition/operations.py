"""Pure reasoning steps (compare, count, compute) that a sub-task can need instead of a function.

As in the paper, some atomic tasks are solved by thinking, not by calling a tool: "which of
the two is cheaper?", "how many are there?", "what is the difference?". A library entry names
one of these operations; the offline oracle runs it with ``apply_operation`` on the step's
inputs (literal ``Step.arguments`` merged with the values bound from producers' outputs).

Inputs come from a schema-driven tool simulator, so every operation is lenient about form:
numbers may arrive as int, float or numeric strings ("12.5", "$1,200"), dates as ISO strings.
Binary operations read the operands ``a`` and ``b``; n-ary ones use every input, in the order
of their sorted names so the result never depends on dict order. Results are JSON values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

Operation = Callable[[dict[str, Any]], Any]

OPERATIONS: dict[str, Operation] = {}

_NUMBER_TEXT = re.compile(r"^[^\d+\-.]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*\D*$")


def operation(name: str) -> Callable[[Operation], Operation]:
    """Register a reasoning operation under ``name`` (its docstring says what it answers)."""

    def register(function: Operation) -> Operation:
        if not function.__doc__:
            raise TypeError(f"operation {name!r} needs a docstring")
        OPERATIONS[name] = function
        return function

    return register


def apply_operation(name: str, inputs: dict[str, Any]) -> Any:
    """Run the reasoning operation ``name`` on ``inputs`` (slot name -> value)."""
    function = OPERATIONS.get(name)
    if function is None:
        raise ValueError(f"unknown operation {name!r}; allowed: {', '.join(sorted(OPERATIONS))}")
    return function(dict(inputs))


def _number(name: str, value: Any) -> float:
    """A number from an int, a float or a numeric string such as '$1,200.50' or '21 C'."""
    if isinstance(value, bool):
        raise ValueError(f"input {name!r} is a boolean, not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _NUMBER_TEXT.match(value.strip().replace(",", ""))
        if match:
            return float(match.group(1))
    raise ValueError(f"input {name!r} is not a number: {value!r}")


def _comparable(name: str, value: Any) -> float | datetime:
    """A number, or an ISO date/date-time string as a datetime, so both can be ordered."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=None)
    return _number(name, value)


def _date(name: str, value: Any) -> date:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise ValueError(f"input {name!r} is not an ISO date: {value!r}")


def _clean(number: float) -> int | float:
    """Whole numbers as int, others rounded, so answers read naturally in JSON."""
    rounded = round(number, 4)
    return int(rounded) if rounded == int(rounded) else rounded


def _operands(inputs: dict[str, Any]) -> tuple[Any, Any]:
    missing = [key for key in ("a", "b") if key not in inputs]
    if missing:
        raise ValueError(f"needs inputs 'a' and 'b'; missing {missing}; got {sorted(inputs)}")
    return inputs["a"], inputs["b"]


def _values(inputs: dict[str, Any]) -> list[tuple[str, Any]]:
    if not inputs:
        raise ValueError("needs at least one input")
    return [(key, inputs[key]) for key in sorted(inputs)]


def _flat_numbers(inputs: dict[str, Any]) -> list[float]:
    numbers: list[float] = []
    for key, value in _values(inputs):
        items = value if isinstance(value, list) else [value]
        numbers.extend(_number(key, item) for item in items)
    return numbers


@operation("max_of")
def max_of(inputs: dict[str, Any]) -> str:
    """Which input is largest (or latest, for dates): returns that input's name."""
    ranked = [(_comparable(key, value), key) for key, value in _values(inputs)]
    return max(ranked, key=lambda pair: pair[0])[1]


@operation("min_of")
def min_of(inputs: dict[str, Any]) -> str:
    """Which input is smallest (or earliest, for dates): returns that input's name."""
    ranked = [(_comparable(key, value), key) for key, value in _values(inputs)]
    return min(ranked, key=lambda pair: pair[0])[1]


@operation("sum")
def total(inputs: dict[str, Any]) -> int | float:
    """The sum of all numeric inputs; list inputs contribute each of their items."""
    return _clean(sum(_flat_numbers(inputs)))


@operation("average")
def average(inputs: dict[str, Any]) -> int | float:
    """The mean of all numeric inputs; list inputs contribute each of their items."""
    numbers = _flat_numbers(inputs)
    if not numbers:
        raise ValueError("needs at least one number to average")
    return _clean(sum(numbers) / len(numbers))


@operation("difference")
def difference(inputs: dict[str, Any]) -> int | float:
    """How much larger ``a`` is than ``b`` (a - b; negative when a is smaller)."""
    a, b = _operands(inputs)
    return _clean(_number("a", a) - _number("b", b))


@operation("ratio")
def ratio(inputs: dict[str, Any]) -> int | float | None:
    """``a`` divided by ``b``; None when ``b`` is zero, since no ratio exists."""
    a, b = _operands(inputs)
    divisor = _number("b", b)
    return None if divisor == 0 else _clean(_number("a", a) / divisor)


@operation("percent_change")
def percent_change(inputs: dict[str, Any]) -> int | float | None:
    """The change from ``a`` to ``b`` in percent of ``a``; None when ``a`` is zero."""
    a, b = _operands(inputs)
    start = _number("a", a)
    return None if start == 0 else _clean((_number("b", b) - start) / start * 100)


@operation("count")
def count(inputs: dict[str, Any]) -> int:
    """How many items there are: list inputs count their items, any other input counts as one."""
    return sum(len(value) if isinstance(value, list) else 1 for _, value in _values(inputs))


@operation("days_between")
def days_between(inputs: dict[str, Any]) -> int:
    """Whole days from date ``a`` to date ``b`` (negative when b comes first)."""
    a, b = _operands(inputs)
    return (_date("b", b) - _date("a", a)).days


@operation("compare")
def compare(inputs: dict[str, Any]) -> str:
    """A short sentence comparing ``a`` with ``b``: numbers and dates by order, text by equality."""
    a, b = _operands(inputs)
    try:
        left, right = _comparable("a", a), _comparable("b", b)
    except ValueError:
        same = str(a).strip().casefold() == str(b).strip().casefold()
        return f"{a} and {b} are the same" if same else f"{a} and {b} differ"
    if type(left) is not type(right):
        raise ValueError(f"cannot compare a={a!r} with b={b!r}: one is a date, the other a number")
    if left == right:
        return f"{a} equals {b}"
    relation = "greater than" if left > right else "less than"
    if isinstance(left, datetime):
        relation = "later than" if left > right else "earlier than"
    return f"{a} is {relation} {b}"
