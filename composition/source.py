"""The contract of a bottom-up phase: something that produces a run's compositional tasks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from composition.models import CompositionalTask
from composition.stats import PipelineStats


class TaskSource(ABC):
    """Produces compositional tasks, kept and rejected, until ``num_tasks`` kept ones exist.

    Sources are built by Hydra from ``composition.source`` (its ``_target_`` names the class)
    with these keyword arguments supplied by the application:

    - ``strategies``: strategy name -> weight, from the ``composition`` group;
    - ``composition``: the whole ``composition`` config (strategy options such as chain length);
    - ``seed``: makes every choice, and so every id, reproducible;
    - ``stats``: where each stage counts what it made, kept and rejected;
    - ``run_dir``: where a source may stream intermediate records (scenarios.jsonl, ...);
    - ``model_clients``: a provider of chat-completion clients, or None when running offline.

    A source must be deterministic for a given seed (and cache), so a resumed run regenerates
    the same ids and the application can skip the work already on disk.
    """

    def __init__(
        self,
        *,
        strategies: Mapping[str, float],
        composition: Mapping[str, Any] | None = None,
        seed: int = 0,
        stats: PipelineStats | None = None,
        run_dir: Path | None = None,
        model_clients: Any = None,
    ) -> None:
        self.strategies = dict(strategies)
        self.composition = dict(composition or {})
        self.seed = seed
        self.stats = stats if stats is not None else PipelineStats()
        self.run_dir = run_dir
        self.model_clients = model_clients

    @abstractmethod
    def generate(self, num_tasks: int) -> AsyncIterator[CompositionalTask]:
        """Yield tasks as they are made; rejected ones carry ``kept=False`` and a reason."""
