"""The contract of a composition strategy, and the registry that finds strategies by name.

A strategy decides the *shape* of a compositional task: how many atomic tasks and which one
consumes which (a DAG whose edge (i, j) means j uses i's answer). The shape is all a strategy
owns, so the same strategy serves both bottom-up phases: the offline library realizes a shape
by type matching (``compose``), and the LLM phase asks a model to write tasks of that shape,
using ``description`` in its prompt.

Adding a strategy is one new module in this package; it is imported automatically. E.g. a
fixed four-hop chain would read::

    @register_strategy
    class FourHop(CompositionStrategy):
        name = "four_hop"
        description = "A chain of four tasks, each needing the answer of the one before it."

        def shape(self, rng):
            return TaskShape(size=4, edges=((0, 1), (1, 2), (2, 3)))

and a config ``composition/four_hop.yaml`` with ``strategies: {four_hop: 1.0}`` selects it.
Offline realization by type matching handles shapes where every task but the last feeds
exactly one consumer; a strategy with another shape overrides ``compose``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from composition.errors import ConfigurationError
from composition.library import Placed, TaskLibrary
from composition.strategies.matching import fill_shape
from composition.strategies.shape import TaskShape
from composition.world import World


class UnknownStrategyError(ConfigurationError):
    """A strategy name that no registered strategy answers to."""

    def __init__(self, name: str, allowed: list[str]) -> None:
        super().__init__(f"unknown composition strategy {name!r}; allowed: {', '.join(allowed)}")
        self.name = name
        self.allowed = allowed


class CompositionStrategy(ABC):
    """Builds one kind of compositional task; subclasses set ``name`` and ``description``."""

    name: ClassVar[str]
    description: ClassVar[str]

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


_REGISTRY: dict[str, type[CompositionStrategy]] = {}
Strategy = TypeVar("Strategy", bound=type[CompositionStrategy])


def register_strategy(cls: Strategy) -> Strategy:
    """Class decorator: make ``cls`` selectable by its ``name`` in configs."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy name {cls.name!r} is taken by {existing.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def get_strategy(name: str) -> type[CompositionStrategy]:
    """The strategy class registered as ``name``; UnknownStrategyError names the allowed ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownStrategyError(name, available_strategies()) from None


def available_strategies() -> list[str]:
    return sorted(_REGISTRY)
