"""Names of the files in a run directory, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunFiles:
    root: Path

    @property
    def tasks(self) -> Path:
        return self.root / "tasks.jsonl"

    @property
    def trajectories(self) -> Path:
        return self.root / "trajectories.jsonl"

    @property
    def stats(self) -> Path:
        return self.root / "stats.json"

    @property
    def export_dir(self) -> Path:
        return self.root / "export"
