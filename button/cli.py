"""Console entry point: checks the command line, then hands it to Hydra.

Hydra reports a bad override with a multi-line message; users of ``button`` get one line
naming the value and the allowed ones, and exit status 2, before anything runs: group options
are checked against the config package, then the config is composed and validated once.
"""

from __future__ import annotations

import sys
from importlib.resources import files

from button.launchers import missing_launchers

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


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if error.__cause__ is not None:
        lines += [line.strip() for line in str(error.__cause__).splitlines()[:1]]
    return " ".join(line for line in lines if not line.startswith("Set the environment variable"))


def check_composed_config(arguments: list[str]) -> list[str]:
    """Compose and validate the config a single run would use (sweeps are checked per job)."""
    if any(argument.startswith("-") for argument in arguments):
        return []  # --multirun, --cfg, --help and other Hydra modes
    overrides = [a for a in arguments if not a.lstrip("+~").startswith(("hydra.", "hydra/"))]
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from button.api import compose_config
    from button.settings import validate_settings
    from composition.errors import ButtonError

    try:
        validate_settings(OmegaConf.to_container(compose_config(overrides), resolve=True))
    except ButtonError as error:
        return [str(error)]
    except (HydraException, OmegaConfBaseException) as error:
        return [_one_line(error)]
    return []


def merge_command(arguments: list[str]) -> None:
    """``button merge OUT RUN_DIR...``: run directories merged into a new one (button.merge)."""
    from button.merge import main as merge_main

    sys.exit(merge_main(arguments))


def main() -> None:
    if sys.argv[1:2] == ["merge"]:
        merge_command(sys.argv[2:])
    problems = check_group_overrides(sys.argv[1:]) or missing_launchers(sys.argv[1:]) or check_composed_config(sys.argv[1:])
    if problems:
        for problem in problems:
            print(f"button: error: {problem}", file=sys.stderr)
        sys.exit(2)
    from button.app import hydra_main

    hydra_main()
