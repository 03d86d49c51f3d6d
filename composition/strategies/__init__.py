"""Composition strategies as plug-ins: every module of this package is imported, so a module
that defines a ``@register_strategy`` class is all it takes to add one (see ``base``)."""

import importlib
import pkgutil

from composition.strategies.base import (
    CompositionStrategy,
    UnknownStrategyError,
    available_strategies,
    get_strategy,
    register_strategy,
)
from composition.strategies.shape import NoTypeMatch, TaskShape

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "CompositionStrategy",
    "NoTypeMatch",
    "TaskShape",
    "UnknownStrategyError",
    "available_strategies",
    "get_strategy",
    "register_strategy",
]
