"""Counters a pipeline stage keeps: how much it made, kept and rejected (by reason)."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field, PrivateAttr


class StageStats(BaseModel):
    """``seconds`` sums the time of every item; ``wall_seconds`` is the time at least one item
    of the stage was in progress (items overlap, so it is what the stage cost the run)."""

    made: int = 0
    kept: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0
    wall_seconds: float = 0.0
    _active: int = PrivateAttr(default=0)
    _busy_since: float = PrivateAttr(default=0.0)

    def started(self) -> float:
        """One item begins; returns its start time for :meth:`finished`."""
        now = time.perf_counter()
        if self._active == 0:
            self._busy_since = now
        self._active += 1
        return now

    def finished(self, started: float) -> None:
        now = time.perf_counter()
        self.seconds += now - started
        self._active -= 1
        if self._active == 0:
            self.wall_seconds += now - self._busy_since

    def keep(self, count: int = 1) -> None:
        self.made += count
        self.kept += count

    def reject(self, reason: str) -> None:
        self.made += 1
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


class PipelineStats(BaseModel):
    """Per-stage counters of a whole run, keyed by stage name, in the order stages first report."""

    stages: dict[str, StageStats] = Field(default_factory=dict)

    def stage(self, name: str) -> StageStats:
        return self.stages.setdefault(name, StageStats())
