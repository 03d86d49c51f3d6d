"""The contract of a composition strategy.

A strategy decides the *shape* of a compositional task: how many atomic tasks and which one
consumes which (a DAG whose edge (i, j) means j uses i's answer). The shape is all a strategy
owns, so the same strategy serves both bottom-up phases: the offline library realizes a shape
by type matching (``compose``), and the LLM phase asks a model to write tasks of that shape,
using ``description`` in its prompt. ``filters`` names the structural checks its tasks must
pass (``composition.filters.CHECKS``); a shape with independent tasks leaves out
``disconnected_task``.

A strategy of your own is a subclass in any importable module, selected by its dotted path:
``composition.strategies: {my_module.FourHop: 1.0}`` (see docs/extending.md). Offline
realization by type matching handles forests: shapes where every task feeds at most one
consumer (chains, parallel-then-sequential, independent tasks); a strategy with another shape
overrides ``compose``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from composition.filters import CHECKS
from composition.library import Placed, TaskLibrary
from composition.strategies.matching import fill_shape
from composition.strategies.shape import TaskShape
from composition.world import World


class CompositionStrategy(ABC):
    """Builds one kind of compositional task; subclasses set ``name`` and ``description``."""

    name: ClassVar[str]
    description: ClassVar[str]
    filters: ClassVar[tuple[str, ...]] = tuple(CHECKS)

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @abstractmethod
    def shape(self, rng: random.Random) -> TaskShape:
        """Draw the DAG of the next task (may vary in size, e.g. a chain of 2 or 3)."""

    def compose(
        self, library: TaskLibrary, rng: random.Random, seed: int | None = None, world: World | None = None
    ) -> list[Placed]:
        """Realize a drawn shape from the library by type matching (literal values from ``world``
        when given); raises NoTypeMatch."""
        return fill_shape(library, self.shape(rng), rng, seed, world)
