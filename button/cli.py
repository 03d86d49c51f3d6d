"""Console entry point: checks the command line, then hands it to Hydra.

Hydra reports a bad override with a multi-line message; users of ``button`` get one line
naming the value and the allowed ones, and exit status 2, before anything runs: group options
are checked against the config package, then the config is composed and validated once.
"""

from __future__ import annotations

import re
import signal
import sys
from importlib.resources import files

from button.launchers import missing_launchers

CONFIG_PACKAGE = "conf"

#: What an environment variable's name looks like; anything else in ``*api_key_env`` is refused.
ENV_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
#: Values that look like a secret wherever they appear: the prefixes providers give their keys.
KEY_LIKE = re.compile(r"\b(?:sk|rk|pk|hf|gsk|xai|AIza)[-_][A-Za-z0-9_-]{16,}")


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


def check_no_keys(arguments: list[str]) -> list[str]:
    """Refuse API keys on the command line: Hydra would save them under .hydra/ and print them.

    Any override of a field named ``*api_key`` is refused, as is a ``*api_key_env`` value that is
    not a variable name and any value that looks like a key; messages name the field, never the value.
    """
    problems = []
    for argument in arguments:
        if "=" not in argument:
            continue
        key, value = argument.split("=", 1)
        field = key.removeprefix("override ").lstrip("+~").lower()
        name = field.rsplit(".", 1)[-1]
        if "api_key" in name and not name.endswith("api_key_env"):
            problems.append(
                f"{key.lstrip('+~')}: API keys are not accepted on the command line (Hydra would save them under .hydra/); "
                "export the key in an environment variable and name that variable with model.api_key_env"
            )
        elif name.endswith("api_key_env") and value not in ("null", "") and (
            not ENV_VAR_NAME.fullmatch(value) or KEY_LIKE.search(value)
        ):
            problems.append(
                f"{key.lstrip('+~')}: expects the name of an environment variable (letters, digits, _), "
                "not a key; the value was not saved or shown"
            )
        elif KEY_LIKE.search(value) and not field.startswith("hydra"):
            problems.append(
                f"{key.lstrip('+~')}: the value looks like an API key; keys are read only from the environment "
                "variable named by model.api_key_env (the value was not saved or shown)"
            )
    return problems


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if error.__cause__ is not None:
        lines += [line.strip() for line in str(error.__cause__).splitlines()[:1]]
    return " ".join(line for line in lines if not line.startswith("Set the environment variable"))


def check_composed_config(arguments: list[str], config_name: str = "config") -> list[str]:
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
        validate_settings(OmegaConf.to_container(compose_config(overrides, config_name), resolve=True))
    except ButtonError as error:
        return [str(error)]
    except (HydraException, OmegaConfBaseException) as error:
        return [_one_line(error)]
    return []


def main() -> None:
    from button.subcommands import SUBCOMMANDS, run_subcommand

    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS:
        sys.exit(run_subcommand(sys.argv[1], sys.argv[2:]))
    problems = (
        check_no_keys(sys.argv[1:])
        or check_group_overrides(sys.argv[1:])
        or missing_launchers(sys.argv[1:])
        or check_composed_config(sys.argv[1:])
    )
    if problems:
        for problem in problems:
            print(f"button: error: {problem}", file=sys.stderr)
        sys.exit(2)
    from button.app import hydra_main

    hydra_main()


def entry() -> None:
    """The console script: :func:`main`, with a stop signal during start-up reported in one line
    (exit 128 + the signal's number); during the run the pipeline handles signals itself."""
    from button.interrupt import Interrupted, install_startup_handlers

    install_startup_handlers()
    try:
        main()
    except KeyboardInterrupt as interrupt:
        signum = interrupt.signum if isinstance(interrupt, Interrupted) else 2
        print(f"button: interrupted by {signal.Signals(signum).name} before the run started", file=sys.stderr)
        sys.exit(128 + signum)
