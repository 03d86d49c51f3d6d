"""Strings drawn for a schema ``pattern`` match it; what the parser does not cover gives None."""

import random
import re

import pytest

from agents.offline.patterns import string_matching

MATCHED = [
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
    r"^(ab|cd)+\1?x*$",
    r"^(?:[A-Z]{2}|\d)-[^a-z\s]{3,}$",
    r"^\+?[0-9 ]{7,15}$",
    r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
    r"a{2,}b*?c+?\.",
]


@pytest.mark.parametrize("pattern", MATCHED)
def test_every_drawn_string_matches_and_draws_vary(pattern: str) -> None:
    rng = random.Random(7)
    drawn = [string_matching(pattern, rng) for _ in range(50)]
    assert all(text is not None and re.search(pattern, text) for text in drawn)
    assert len(set(drawn)) > 1


@pytest.mark.parametrize("pattern", [r"(?=x)a", r"(?P<y>a)", r"[z-a]", r"a**"])
def test_look_arounds_named_groups_and_bad_patterns_give_none(pattern: str) -> None:
    assert string_matching(pattern, random.Random(0)) is None
