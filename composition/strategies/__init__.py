"""Composition strategies: the built-in ones by short name, any other by dotted path."""

from composition.plugins import resolve_class
from composition.strategies.base import CompositionStrategy
from composition.strategies.k_hop import KHop
from composition.strategies.parallel import Parallel
from composition.strategies.parallel_then_sequential import ParallelThenSequential
from composition.strategies.sequential import Sequential
from composition.strategies.shape import NoTypeMatch, TaskShape

BUILT_IN_STRATEGIES: dict[str, type[CompositionStrategy]] = {
    cls.name: cls for cls in (Sequential, ParallelThenSequential, KHop, Parallel)
}


def get_strategy(entry: str) -> type[CompositionStrategy]:
    """The strategy class a ``composition.strategies`` key names: a built-in's name or a dotted path."""
    return resolve_class(entry, BUILT_IN_STRATEGIES, CompositionStrategy, "composition.strategies", "composition strategy")


def available_strategies() -> list[str]:
    return list(BUILT_IN_STRATEGIES)


__all__ = [
    "BUILT_IN_STRATEGIES",
    "CompositionStrategy",
    "NoTypeMatch",
    "TaskShape",
    "available_strategies",
    "get_strategy",
]
