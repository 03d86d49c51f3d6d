"""Progress bars on a terminal: one per stage (kept, rejected, rate) and one for model requests.

The bars read the counters the stages already keep (:class:`PipelineStats`, the model usage)
a few times a second instead of being pushed to by every stage, so no stage knows about them
and a run without a terminal pays nothing: the board is then never started.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping
from typing import Any

from tqdm import tqdm

from composition.stats import PipelineStats

Usage = Callable[[], Mapping[str, Mapping[str, Any]]]


def wants_progress(setting: bool | None) -> bool:
    """``runner.progress``: true, false, or null for "only when stderr is a terminal"."""
    return sys.stderr.isatty() if setting is None else setting


class ProgressBoard:
    """Refreshes one tqdm bar per stage, plus a ``requests`` bar, every ``interval`` seconds."""

    def __init__(self, stats: PipelineStats, usage: Usage | None = None, *, interval: float = 0.5) -> None:
        self.stats = stats
        self.usage = usage
        self.interval = interval
        self._bars: dict[str, tqdm] = {}
        self._refresher: asyncio.Task[None] | None = None

    def _bar(self, name: str, unit: str) -> tqdm:
        if name not in self._bars:
            self._bars[name] = tqdm(desc=name, unit=unit, position=len(self._bars), smoothing=0, dynamic_ncols=True)
        return self._bars[name]

    def refresh(self) -> None:
        for name, stage in list(self.stats.stages.items()):
            bar = self._bar(name, "item")
            bar.update(stage.made - bar.n)
            bar.set_postfix(kept=stage.kept, rejected=stage.made - stage.kept, refresh=False)
            bar.refresh()
        if self.usage is not None:
            totals: dict[str, int] = {"requests": 0, "tokens": 0, "retries": 0, "cached": 0}
            for usage in self.usage().values():
                totals["requests"] += usage.get("requests", 0)
                totals["tokens"] += usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
                totals["retries"] += usage.get("retries", 0)
                totals["cached"] += usage.get("cache_hits", 0)
            if totals["requests"] or totals["cached"]:
                bar = self._bar("requests", "req")
                bar.update(totals["requests"] - bar.n)
                bar.set_postfix(tokens=totals["tokens"], retries=totals["retries"], cached=totals["cached"], refresh=False)
                bar.refresh()

    async def _keep_refreshing(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.refresh()

    async def __aenter__(self) -> ProgressBoard:
        self._refresher = asyncio.create_task(self._keep_refreshing())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
        self.refresh()
        for bar in self._bars.values():
            bar.close()
