"""A k-hop chain: exactly ``hops`` tasks, each consuming the answer of the one before it.

Unlike ``sequential`` (a random length up to a limit), every task has the same depth, e.g.
``composition=k_hop composition.hops=4`` for four-hop questions only.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from composition.errors import ConfigurationError
from composition.strategies.base import CompositionStrategy, TaskShape

DEFAULT_HOPS = 3


class KHop(CompositionStrategy):
    name = "k_hop"
    description = (
        "A chain of a fixed length: the first task is stated with concrete values, and every later "
        "task needs the answer of the task right before it."
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        hops = self.options.get("hops", DEFAULT_HOPS)
        if isinstance(hops, bool) or not isinstance(hops, int) or hops < 2:
            raise ConfigurationError(f"composition.hops must be an integer >= 2, got {hops!r}")
        self.hops = hops

    def shape(self, rng: random.Random) -> TaskShape:
        return TaskShape(size=self.hops, edges=tuple((i, i + 1) for i in range(self.hops - 1)))
