"""A strategy whose shape type matching cannot realize (one task feeding two), for the CLI test."""

from __future__ import annotations

import random

from composition.strategies import CompositionStrategy, TaskShape


class Fork(CompositionStrategy):
    name = "fork"
    description = "One task whose answer two others need."

    def shape(self, rng: random.Random) -> TaskShape:
        return TaskShape(size=3, edges=((0, 1), (0, 2)))
