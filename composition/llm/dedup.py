"""Near-duplicate removal by normalized text: case, accents, punctuation and spacing ignored."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """'Who wrote  "Dune"?' and 'who wrote dune' normalize alike."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", plain).strip()


class Deduplicator:
    """Remembers normalized texts; ``first(text)`` is True only the first time a text is seen."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def first(self, text: str) -> bool:
        key = normalize(text)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
