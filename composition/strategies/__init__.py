"""Composition strategies: the built-in ones by short name, any other by dotted path."""

import math
from collections.abc import Mapping
from typing import Any

from composition.errors import ConfigurationError
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


def weighted_strategies(
    weights: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> dict[CompositionStrategy, float]:
    """``composition.strategies`` built (each with the ``composition`` options) and checked:
    every weight a number >= 0, at least one > 0. Every task source draws from this."""
    built: dict[CompositionStrategy, float] = {}
    for name, weight in weights.items():
        strategy = get_strategy(name)(options)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            raise ConfigurationError(f"composition.strategies.{name}: weight must be a number >= 0, got {weight!r}")
        built[strategy] = float(weight)
    if not any(weight > 0 for weight in built.values()):
        raise ConfigurationError("composition.strategies: at least one strategy needs a weight > 0")
    return built


__all__ = [
    "BUILT_IN_STRATEGIES",
    "CompositionStrategy",
    "NoTypeMatch",
    "TaskShape",
    "available_strategies",
    "get_strategy",
    "weighted_strategies",
]
