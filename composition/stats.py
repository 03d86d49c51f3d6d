"""Counters a pipeline stage keeps: how much it made, kept and rejected (by reason)."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field


class StageStats(BaseModel):
    made: int = 0
    kept: int = 0
    rejected: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0

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

    def rejection_reasons(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for name, stage in self.stages.items():
            total.update({f"{name}:{reason}": count for reason, count in stage.rejected.items()})
        return total
