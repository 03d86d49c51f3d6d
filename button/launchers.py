"""Hydra launchers that come from optional plugins: a missing one is named with its extra.

Without the plugin Hydra only says the config was not found; ``button`` says what to install.
"""

from __future__ import annotations

from importlib.util import find_spec

_JOBLIB = ("hydra_plugins.hydra_joblib_launcher", "hydra-joblib-launcher", "joblib")
_SUBMITIT = ("hydra_plugins.hydra_submitit_launcher", "hydra-submitit-launcher", "slurm")
#: launcher choice -> (plugin module, its package, the extra of button-datagen that installs it)
PLUGIN_LAUNCHERS = {
    "joblib": _JOBLIB,
    "submitit_slurm": _SUBMITIT,
    "submitit_local": _SUBMITIT,
    "slurm": _SUBMITIT,  # conf/hydra/launcher/slurm.yaml builds on submitit_slurm
}


def _installed(module: str) -> bool:
    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:  # not even the hydra_plugins namespace
        return False


def missing_launchers(arguments: list[str]) -> list[str]:
    """One message per ``hydra/launcher=<choice>`` whose plugin is not installed."""
    problems = []
    for argument in arguments:
        key, _, choice = argument.partition("=")
        if key.removeprefix("override ").lstrip("+") != "hydra/launcher" or choice not in PLUGIN_LAUNCHERS:
            continue
        module, package, extra = PLUGIN_LAUNCHERS[choice]
        if not _installed(module):
            problems.append(
                f"hydra/launcher={choice} needs the {package} plugin: pip install 'button-datagen[{extra}]'"
            )
    return problems
