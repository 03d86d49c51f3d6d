"""Reasoning operations: what each answers, and how they cope with simulator-shaped values."""

import json

import pytest

from composition.operations import OPERATIONS, apply_operation


def test_every_operation_says_what_it_answers() -> None:
    assert len(OPERATIONS) >= 8
    assert all(function.__doc__ and function.__doc__.strip() for function in OPERATIONS.values())


def test_unknown_operation_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError) as error:
        apply_operation("median_of_medians", {"a": 1})
    message = str(error.value)
    assert "median_of_medians" in message
    assert "max_of" in message and "difference" in message


@pytest.mark.parametrize(
    ("name", "inputs", "expected"),
    [
        ("max_of", {"price_a": 12, "price_b": 30.5}, "price_b"),
        ("min_of", {"price_a": 12, "price_b": "30.5"}, "price_a"),
        ("max_of", {"a": "2024-05-01", "b": "2023-12-31T10:00:00Z"}, "a"),
        ("min_of", {"a": "2024-05-01", "b": "2023-12-31"}, "b"),
        ("sum", {"a": [1, 2, 3], "b": "$1,000"}, 1006),
        ("average", {"a": 3, "b": 4}, 3.5),
        ("difference", {"a": 21.5, "b": "19 C"}, 2.5),
        ("difference", {"a": 3, "b": 10}, -7),
        ("ratio", {"a": 9, "b": 3}, 3),
        ("ratio", {"a": 9, "b": 0}, None),
        ("percent_change", {"a": 50, "b": 75}, 50),
        ("count", {"items": ["x", "y", "z"]}, 3),
        ("count", {"items": [], "extra": "one"}, 1),
        ("days_between", {"a": "2024-02-28", "b": "2024-03-01"}, 2),
        ("compare", {"a": 5, "b": 3}, "5 is greater than 3"),
        ("compare", {"a": "2020-01-01", "b": "2021-01-01"}, "2020-01-01 is earlier than 2021-01-01"),
        ("compare", {"a": "Paris", "b": "paris"}, "Paris and paris are the same"),
        ("compare", {"a": "Paris", "b": "Rome"}, "Paris and Rome differ"),
    ],
)
def test_operation_results(name: str, inputs: dict, expected: object) -> None:
    result = apply_operation(name, inputs)
    assert result == expected
    json.dumps(result)


def test_ties_resolve_by_sorted_input_name() -> None:
    assert apply_operation("max_of", {"b": 2, "a": 2}) == "a"


@pytest.mark.parametrize(
    ("name", "inputs", "fragment"),
    [
        ("difference", {"a": 1}, "missing ['b']"),
        ("sum", {"a": "plenty"}, "'a' is not a number"),
        ("sum", {"a": True}, "boolean"),
        ("days_between", {"a": "soon", "b": "2024-01-01"}, "'a' is not an ISO date"),
        ("compare", {"a": "2024-01-01", "b": 3}, "cannot compare"),
        ("max_of", {}, "at least one input"),
    ],
)
def test_bad_inputs_are_named(name: str, inputs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        apply_operation(name, inputs)
