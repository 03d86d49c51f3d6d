"""Console entry point: checks config-group choices, then hands the command line to Hydra.

Hydra reports an unknown group option with a multi-line message; users of ``button`` get one
line naming the value and the allowed ones, and exit status 2, before anything runs.
"""

from __future__ import annotations

import sys
from importlib.resources import files

CONFIG_PACKAGE = "conf"


def group_options(group: str) -> list[str]:
    """Option names of a config group such as ``model`` or ``agents/tool``."""
    folder = files(CONFIG_PACKAGE).joinpath(group)
    if not folder.is_dir():
        return []
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def check_group_overrides(arguments: list[str]) -> list[str]:
    """One message per override that picks an option its config group does not have."""
    problems = []
    for argument in arguments:
        if argument.startswith("-") or "=" not in argument:
            continue
        key, value = argument.split("=", 1)
        key = key.removeprefix("override ").lstrip("+")
        if key.startswith("hydra") or "(" in value:
            continue  # Hydra's own settings and sweep functions such as range(...)
        allowed = group_options(key)
        if not allowed:
            continue  # a value, not a group
        for choice in value.split(","):
            if choice.strip() not in allowed:
                problems.append(f"{key}={choice.strip()}: unknown option; allowed: {', '.join(allowed)}")
    return problems


def main() -> None:
    problems = check_group_overrides(sys.argv[1:])
    if problems:
        for problem in problems:
            print(f"button: error: {problem}", file=sys.stderr)
        sys.exit(2)
    from button.app import hydra_main

    hydra_main()
