"""Parallel composition: independent tasks asked together, no task needs another's answer.

"What is the temperature in Oslo, and who wrote Dune?" The calls can all go out in one turn,
and the final answer states every sub-task's value. With no edges, such a task is
disconnected by design, so this strategy's filters leave ``disconnected_task`` out.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from composition.errors import ConfigurationError
from composition.filters import CHECKS
from composition.strategies.base import CompositionStrategy, TaskShape

DEFAULT_WIDTH = 2


class Parallel(CompositionStrategy):
    name = "parallel"
    description = (
        "Independent tasks, each stated with concrete values, asked together in one request; "
        "none needs another's answer, and the answer gives every one of them."
    )
    filters = tuple(code for code in CHECKS if code != "disconnected_task")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        width = self.options.get("width", DEFAULT_WIDTH)
        if isinstance(width, bool) or not isinstance(width, int) or width < 2:
            raise ConfigurationError(f"composition.width must be an integer >= 2, got {width!r}")
        self.width = width

    def shape(self, rng: random.Random) -> TaskShape:
        return TaskShape(size=self.width, edges=())
