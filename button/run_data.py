"""Read a finished run directory for ``button show`` and ``button report``.

A damaged or foreign file becomes one line naming the file, the line and the field, never a
traceback: these commands are pointed at directories by hand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from composition.errors import ButtonError, field_problems
from composition.jsonl import read_records
from composition.models import CompositionalTask
from environment.run_files import RunFiles
from environment.trajectory import Trajectory


class RunDirectoryError(ButtonError):
    """A run directory is missing, incomplete or holds a record that does not parse."""


@dataclass
class RunData:
    root: Path
    trajectories: list[Trajectory]
    tasks: list[CompositionalTask]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.root.name or str(self.root)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    line = 0
    try:
        for line, record in enumerate(read_records(path), 1):
            yield line, record
    except json.JSONDecodeError as error:
        raise RunDirectoryError(f"{path}:{line + 1}: not a JSON record ({error.msg})") from None
    except UnicodeDecodeError:
        raise RunDirectoryError(f"{path}:{line + 1}: not UTF-8 text") from None


def _parse(path: Path, model: type[Trajectory] | type[CompositionalTask]) -> list[Any]:
    parsed = []
    for line, record in _records(path):
        try:
            parsed.append(model.model_validate(record))
        except ValidationError as error:
            first = field_problems(error, inputs=False, root="record")[0]
            raise RunDirectoryError(f"{path}:{line}: field {first}") from None
    return parsed


def read_trajectories(run_dir: Path) -> list[Trajectory]:
    files = RunFiles(run_dir)
    if not run_dir.is_dir():
        raise RunDirectoryError(f"{run_dir}: no such run directory")
    if not files.trajectories.exists():
        raise RunDirectoryError(f"{run_dir}: no trajectories.jsonl here; is it a run directory of `button`?")
    return _parse(files.trajectories, Trajectory)


def read_run(run_dir: Path) -> RunData:
    """Trajectories, tasks and stats.json (empty when the run has not finished yet)."""
    files = RunFiles(run_dir)
    trajectories = read_trajectories(run_dir)
    stats: dict[str, Any] = {}
    if files.stats.exists():
        try:
            stats = json.loads(files.stats.read_text())
        except json.JSONDecodeError as error:
            raise RunDirectoryError(f"{files.stats}:{error.lineno}: not JSON ({error.msg})") from None
    return RunData(run_dir, trajectories, _parse(files.tasks, CompositionalTask), stats)
