"""Parallel-then-sequential composition: two independent tasks feed a third.

"What is the temperature in Oslo?" and "What is the temperature in Cairo?" feed
"Which is higher: the current temperature in Oslo or the current temperature in Cairo?"
(edges (0, 2), (1, 2)); the first two can be solved in parallel.
"""

from __future__ import annotations

import random

from composition.strategies.base import CompositionStrategy, TaskShape


class ParallelThenSequential(CompositionStrategy):
    name = "parallel_then_sequential"
    description = (
        "Two independent tasks, each stated with concrete values, whose answers are both "
        "needed by a third task."
    )

    def shape(self, rng: random.Random) -> TaskShape:
        return TaskShape(size=3, edges=((0, 2), (1, 2)))
