"""Sequential composition: each task consumes the answer of the one before it.

"Who wrote the book Dune?" -> "When was that author born?" becomes
"When was the author of the book Dune born?" (edges (0, 1), (1, 2), ...).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from composition.errors import ConfigurationError
from composition.strategies.base import CompositionStrategy, TaskShape

DEFAULT_MAX_CHAIN_LENGTH = 3


class Sequential(CompositionStrategy):
    name = "sequential"
    description = (
        "A chain: the first task is stated with concrete values, and every later task needs "
        "the answer of the task right before it."
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.max_chain_length = self._chain_length()

    def _chain_length(self) -> int:
        value = self.options.get("max_chain_length", DEFAULT_MAX_CHAIN_LENGTH)
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ConfigurationError(f"composition.max_chain_length must be an integer >= 2, got {value!r}")
        return value

    def shape(self, rng: random.Random) -> TaskShape:
        length = rng.randint(2, self.max_chain_length)
        return TaskShape(size=length, edges=tuple((i, i + 1) for i in range(length - 1)))
