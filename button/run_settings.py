"""The settings a run directory's data was made with, so a resume cannot silently mix them.

``settings.json`` in the run directory lists the generation settings of every invocation that
added data: the composed config without what only steers the run (num_tasks, runner, pricing,
export formats, cache and retry options). Resuming with settings that would make different
data is refused, naming the differing keys, unless ``runner.resume=extend`` asks for it; then
the new settings are appended, and stats.json reports every value the data was made with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from composition.errors import ConfigurationError
from composition.jsonl import read_records, write_whole
from environment.run_files import RunFiles

SETTINGS_NAME = "settings.json"
#: Keys (or key prefixes) that change how a run goes, not what it generates.
NOT_GENERATION = (
    "hydra", "num_tasks", "runner", "pricing", "export",
    "model.cache_dir", "model.timeout", "model.max_retries", "model.api_key_env",
    "composition.source.concurrency", "composition.source.patience",
)
#: The settings stats.json summarizes, under these names.
SUMMARIZED = {"seed": "seed", "model.name": "model", "environment.protocol": "protocol", "shard": "shard"}


class ResumeSettingsChanged(ConfigurationError):
    """The run directory holds data made with other settings."""


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def generation_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved config as dotted keys, without the keys that do not shape the data."""
    return {
        key: value
        for key, value in _flatten(config).items()
        if not any(key == skip or key.startswith(skip + ".") for skip in NOT_GENERATION)
    }


def _history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / SETTINGS_NAME
    if not path.is_file():
        return []
    try:
        history = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        history = None
    if not isinstance(history, list) or not all(isinstance(entry, dict) for entry in history):
        raise ConfigurationError(f"{path}: not a list of settings written by button; restore it or choose another hydra.run.dir")
    return history


def _has_data(run_dir: Path) -> bool:
    return next(read_records(RunFiles(run_dir).tasks), None) is not None


def resumed_history(run_dir: Path, config: Mapping[str, Any], extend: bool) -> list[dict[str, Any]]:
    """The settings history once this invocation runs; ResumeSettingsChanged when the run
    directory's data was made with other settings and ``extend`` is off."""
    current = generation_settings(config)
    history = _history(run_dir) if _has_data(run_dir) else []
    if not history:
        return [current]
    last = history[-1]
    # top-level keys first: model.name before the stage and role models that follow it
    changed = sorted((key for key in set(last) | set(current) if last.get(key) != current.get(key)), key=lambda k: (k.count("."), k))
    if not changed:
        return history
    if not extend:
        shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
        raise ResumeSettingsChanged(
            f"run directory {run_dir} holds data made with other settings (changed: {shown}); rerun with the same "
            "settings to resume, choose another hydra.run.dir, or add runner.resume=extend to add data made with these"
        )
    return [*history, current]


def write_history(run_dir: Path, history: list[dict[str, Any]]) -> None:
    write_whole(run_dir / SETTINGS_NAME, json.dumps(history, indent=1, default=str) + "\n")


def summarize(history: list[dict[str, Any]], num_tasks: int) -> dict[str, Any]:
    """stats.json's ``settings``: each summarized value, or the list of the values the data was
    made with when an extended run changed it; ``changed`` names every key that ever differed."""
    summary: dict[str, Any] = {"num_tasks": num_tasks}
    for key, label in SUMMARIZED.items():
        values: list[Any] = []
        for entry in history:
            if entry.get(key) not in values:
                values.append(entry.get(key))
        summary[label] = values[0] if len(values) == 1 else values
    summary["changed"] = sorted({k for a, b in zip(history, history[1:]) for k in set(a) | set(b) if a.get(k) != b.get(k)})
    return summary
