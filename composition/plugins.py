"""One way to name a plug-in in a config: a built-in's short name, or a dotted path to a class.

Strategies (``composition.strategies`` keys), verification checks (``environment.checks``
entries) and export formats (``export.formats`` entries) all resolve through ``resolve_class``,
so a user's class in their own module plugs in from config alone, the way Hydra's
``_target_`` names a role or a stage: ``my_pkg.shapes.Star`` beside ``sequential``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TypeVar

from composition.errors import ConfigurationError

T = TypeVar("T")


def resolve_class(entry: str, built_in: Mapping[str, type[T]], base: type[T], field: str, what: str) -> type[T]:
    """The built-in class called ``entry``, or the ``base`` subclass its dotted path names.

    ``field`` names the config setting and ``what`` the kind of plug-in in the one-line error
    (e.g. ``composition.strategies``, ``composition strategy``).
    """
    if entry in built_in:
        return built_in[entry]
    allowed = f"allowed: {', '.join(built_in)}, or the dotted path of a subclass of {base.__name__} (my_module.MyClass)"
    if not isinstance(entry, str) or "." not in entry:
        raise ConfigurationError(f"{field}: unknown {what} {entry!r}; {allowed}")
    module_name, _, class_name = entry.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"{field}: cannot import {what} {entry!r} ({error}); {allowed}") from None
    if not (isinstance(found, type) and issubclass(found, base)):
        raise ConfigurationError(f"{field}: {what} {entry!r} is not a subclass of {base.__name__}; {allowed}")
    return found
