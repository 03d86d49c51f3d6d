"""LLMTaskSource: the bottom-up phase with a language model behind every stage.

seed conversations -> scenarios (extracted, then expanded) -> atomic tasks -> compositional
tasks (per strategy) -> filter (structural checks, LLM judge) -> functions. Scenarios, atomic
tasks and compositional tasks are deduplicated by normalized text; scenarios and atomic tasks
stream into ``scenarios.jsonl`` and ``atomic_tasks.jsonl`` of the run directory. Up to
``concurrency`` seed conversations are worked on at once, each of their scenarios streaming
through the stages independently; requests are bounded per endpoint by the model clients.
Tasks are yielded in seed order as soon as they are ready, and work stops once enough are kept.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import ExitStack, aclosing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from composition.errors import ConfigurationError
from composition.ids import content_id
from composition.jsonl import JsonlWriter, read_records
from composition.llm.dedup import Deduplicator
from composition.llm.seeds import SeedConversation, read_seed_conversations
from composition.llm.stages import (
    DEFAULT_STAGES,
    AtomicTaskGeneration,
    Composition,
    FunctionGeneration,
    ScenarioExpansion,
    ScenarioExtraction,
    Stage,
    StageContext,
    TaskFilter,
)
from composition.models import AtomicTask, CompositionalTask, Scenario
from composition.source import TaskSource
from composition.strategies import CompositionStrategy, UnknownStrategyError, get_strategy

PACKAGED_SEEDS = Path(__file__).resolve().parent.parent / "data" / "seed_conversations.jsonl"

Item = TypeVar("Item")


def build_stages(configured: Mapping[str, Any] | None) -> dict[str, Stage]:
    """Every pipeline stage: the configured object (Hydra built it from ``_target_``), a mapping
    of constructor options, or the default class when a stage is not mentioned."""
    configured = dict(configured or {})
    unknown = sorted(set(configured) - set(DEFAULT_STAGES))
    if unknown:
        raise ConfigurationError(
            f"composition.source.stages: unknown stage(s) {unknown}; allowed: {', '.join(DEFAULT_STAGES)}"
        )
    stages: dict[str, Stage] = {}
    for name, default in DEFAULT_STAGES.items():
        given = configured.get(name)
        if isinstance(given, Stage):
            stages[name] = given
        elif given is None or isinstance(given, Mapping):
            stages[name] = default(**{key: value for key, value in (given or {}).items() if key != "_target_"})
        else:
            raise ConfigurationError(f"composition.source.stages.{name} must be a stage config, got {given!r}")
    return stages


class _Output:
    """One JSONL stream of the run directory; a resumed run does not write a record twice."""

    def __init__(self, path: Path | None, stack: ExitStack) -> None:
        self._writer = stack.enter_context(JsonlWriter(path)) if path is not None else None
        self._ids = {record.get("id") for record in read_records(path)} if path is not None else set()

    def write(self, record: BaseModel) -> None:
        record_id = getattr(record, "id")
        if self._writer is not None and record_id not in self._ids:
            self._writer.write(record)
            self._ids.add(record_id)


class LLMTaskSource(TaskSource):
    """Compositional tasks written, checked and given functions by language models.

    Construction reads and checks the whole seed file (a bad one raises SeedFileError naming
    the file and line) and every option, so a broken config fails before any request.
    """

    def __init__(
        self,
        *,
        seed_conversations: str | Path | None = None,
        scenarios_per_seed: int = 3,
        retries: int = 2,
        concurrency: int = 8,
        stages: Mapping[str, Any] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.seeds = read_seed_conversations(seed_conversations or PACKAGED_SEEDS)
        for option, value, least in (("scenarios_per_seed", scenarios_per_seed, 0), ("retries", retries, 0), ("concurrency", concurrency, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigurationError(f"composition.source.{option} must be an integer >= {least}, got {value!r}")
        self.scenarios_per_seed = scenarios_per_seed
        self.concurrency = concurrency
        self.stages = build_stages(stages)
        self.compositions = self._strategies()
        if self.model_clients is None:
            raise ConfigurationError(
                "composition/source=llm needs a language model, but model=offline; choose a preset such as model=openai"
            )
        self.context = StageContext(self.model_clients, self.stats, self.seed, retries)
        self._scenarios_seen = Deduplicator()
        self._atomic_seen = Deduplicator()
        self._tasks_seen = Deduplicator()

    def _strategies(self) -> dict[CompositionStrategy, float]:
        """The weighted strategies, built with the composition options (e.g. max_chain_length)."""
        try:
            built = {get_strategy(name)(self.composition): float(weight) for name, weight in self.strategies.items()}
        except UnknownStrategyError as error:
            raise ConfigurationError(f"composition.strategies: {error}") from None
        if not built or sum(built.values()) <= 0:
            raise ConfigurationError(f"composition.strategies needs a positive weight, got {self.strategies!r}")
        return built

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        counts = self.stats.stage(stage)
        started = counts.started()
        try:
            yield
        finally:
            counts.finished(started)

    def _keep_new(self, stage: str, items: Iterable[Item | None], seen: Deduplicator, output: _Output) -> list[Item]:
        """Items not seen before (counted kept and written); duplicates counted as rejected."""
        kept: list[Item] = []
        for item in items:
            if item is None:
                continue
            if seen.first(getattr(item, "text")):
                self.stats.stage(stage).keep()
                output.write(item)  # type: ignore[arg-type]
                kept.append(item)
            else:
                self.stats.stage(stage).reject("duplicate")
        return kept

    def _pick(self, atomic: AtomicTask) -> tuple[CompositionStrategy, random.Random]:
        """A strategy and a shape generator, both fixed by the atomic task and the seed."""
        rng = random.Random(content_id("compose", atomic.id, self.seed))
        strategies = list(self.compositions)
        return rng.choices(strategies, weights=[self.compositions[s] for s in strategies])[0], rng

    async def _compositional(self, atomic: AtomicTask) -> CompositionalTask | None:
        compose: Composition = self.stages["compose"]  # type: ignore[assignment]
        with self._timed(compose.name):
            task = await compose.run(self.context, atomic, *self._pick(atomic))
        if task is None:
            return None
        if not self._tasks_seen.first(task.text):
            self.stats.stage(compose.name).reject("duplicate")
            return None
        self.stats.stage(compose.name).keep()
        task_filter: TaskFilter = self.stages["filter"]  # type: ignore[assignment]
        with self._timed(task_filter.name):
            task = await task_filter.run(self.context, task)
        if not task.kept:
            return task
        functions: FunctionGeneration = self.stages["functions"]  # type: ignore[assignment]
        with self._timed(functions.name):
            return await functions.run(self.context, task)

    async def _from_scenario(self, scenario: Scenario, atomic_out: _Output) -> CompositionalTask | None:
        """One scenario all the way: atomic task, composition, filter, functions."""
        atomic_stage: AtomicTaskGeneration = self.stages["atomic_tasks"]  # type: ignore[assignment]
        with self._timed(atomic_stage.name):
            atomic = await atomic_stage.run(self.context, scenario)
        kept = self._keep_new(atomic_stage.name, [atomic], self._atomic_seen, atomic_out)
        return await self._compositional(kept[0]) if kept else None

    async def _from_seed(
        self, seed: SeedConversation, scenarios_out: _Output, atomic_out: _Output
    ) -> list[CompositionalTask]:
        """One seed conversation's tasks: its scenario and the expanded ones, each on its own."""
        extract: ScenarioExtraction = self.stages["extract_scenarios"]  # type: ignore[assignment]
        expand: ScenarioExpansion = self.stages["expand_scenarios"]  # type: ignore[assignment]
        with self._timed(extract.name):
            extracted = await extract.run(self.context, seed)
        scenarios: list[Scenario] = self._keep_new(extract.name, [extracted], self._scenarios_seen, scenarios_out)
        if scenarios and self.scenarios_per_seed:
            with self._timed(expand.name):
                expanded = await expand.run(self.context, scenarios[0], self.scenarios_per_seed)
            scenarios += self._keep_new(expand.name, expanded, self._scenarios_seen, scenarios_out)
        tasks = await asyncio.gather(*(self._from_scenario(scenario, atomic_out) for scenario in scenarios))
        return [task for task in tasks if task is not None]

    async def _pipeline(self, scenarios_out: _Output, atomic_out: _Output) -> AsyncIterator[CompositionalTask]:
        """Up to ``concurrency`` seeds in flight, each streaming through every stage on its own
        (no barrier between stages); a seed's tasks come out as soon as they and those of the
        seeds before it are done, so the order, and so a rerun's output, does not depend on
        timing. Finished results wait in a bounded queue; closing the generator cancels the rest."""
        running = asyncio.Semaphore(self.concurrency)
        finished: asyncio.Queue[asyncio.Task[list[CompositionalTask]] | None] = asyncio.Queue(4 * self.concurrency)
        jobs: set[asyncio.Task[Any]] = set()

        async def one_seed(seed: SeedConversation) -> list[CompositionalTask]:
            try:
                return await self._from_seed(seed, scenarios_out, atomic_out)
            finally:
                running.release()

        async def feed() -> None:
            for seed in self.seeds:
                await running.acquire()
                job = asyncio.create_task(one_seed(seed))
                jobs.add(job)
                job.add_done_callback(jobs.discard)
                await finished.put(job)
            await finished.put(None)

        feeder = asyncio.create_task(feed())
        try:
            while (job := await finished.get()) is not None:
                for task in await job:
                    yield task
            await feeder
        finally:
            for pending in (feeder, *jobs):
                pending.cancel()
            await asyncio.gather(feeder, *jobs, return_exceptions=True)

    async def generate(self, num_tasks: int) -> AsyncIterator[CompositionalTask]:
        kept = 0
        with ExitStack() as stack:
            run_dir = self.run_dir
            scenarios_out = _Output(run_dir / "scenarios.jsonl" if run_dir else None, stack)
            atomic_out = _Output(run_dir / "atomic_tasks.jsonl" if run_dir else None, stack)
            async with aclosing(self._pipeline(scenarios_out, atomic_out)) as tasks:
                async for task in tasks:
                    yield task
                    kept += task.kept
                    if kept >= num_tasks:
                        return
