"""LLMTaskSource: the bottom-up phase with a language model behind every stage.

seed conversations -> scenarios (extracted, then expanded again and again) -> atomic tasks ->
compositional tasks (several per atomic task, across strategies) -> filter (structural checks,
LLM judge) -> functions. Scenarios, atomic tasks and compositional tasks are deduplicated by
normalized text; scenarios and atomic tasks stream into ``scenarios.jsonl`` and
``atomic_tasks.jsonl`` of the run directory. Material grows until enough tasks are kept or it
stops being new (see :meth:`LLMTaskSource.generate`), so a handful of seeds can feed a large
run. Up to ``concurrency`` scenarios stream through the stages at once; requests are bounded
per endpoint by the model clients. Tasks are yielded in a fixed order as soon as they are ready.
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
from composition.strategies import CompositionStrategy, weighted_strategies

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


class _Demand:
    """Whether one more scenario is worth starting: the kept tasks still missing, against what
    the scenarios under way are expected to give (their observed yield so far), so the source
    does not run far ahead of the tasks the run needs."""

    def __init__(self, wanted: int, per_scenario: float) -> None:
        self.wanted = wanted
        self.prior = per_scenario
        self.kept = self.started = self.finished = 0
        self.changed = asyncio.Event()

    def worth_starting(self) -> bool:
        per_scenario = (self.kept + 2 * self.prior) / (self.finished + 2)
        return self.kept + (self.started - self.finished) * per_scenario < self.wanted

    async def wait_for_need(self) -> None:
        while not self.worth_starting():
            self.changed.clear()
            await self.changed.wait()
        self.started += 1

    def finished_one(self, kept: int) -> None:
        self.finished += 1
        self.kept += kept
        self.changed.set()


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
        compositions_per_task: int = 2,
        patience: int = 50,
        retries: int = 2,
        concurrency: int = 8,
        stages: Mapping[str, Any] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(**common)
        self.seeds = read_seed_conversations(seed_conversations or PACKAGED_SEEDS)
        options = {
            "scenarios_per_seed": (scenarios_per_seed, 0),
            "compositions_per_task": (compositions_per_task, 1),
            "patience": (patience, 1),
            "retries": (retries, 0),
            "concurrency": (concurrency, 1),
        }
        for option, (value, least) in options.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ConfigurationError(f"composition.source.{option} must be an integer >= {least}, got {value!r}")
        self.scenarios_per_seed = scenarios_per_seed
        self.compositions_per_task = compositions_per_task
        self.patience = patience
        self.end_reason: str | None = None
        self.concurrency = concurrency
        self.stages = build_stages(stages)
        self.compositions = weighted_strategies(self.strategies, self.composition)
        if self.model_clients is None:
            raise ConfigurationError(
                "composition/source=llm needs a language model, but model=offline; choose a preset such as model=openai"
            )
        self.context = StageContext(self.model_clients, self.stats, self.seed, retries)
        self._scenarios_seen = Deduplicator()
        self._atomic_seen = Deduplicator()
        self._tasks_seen = Deduplicator()

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

    def _variants(self, atomic: AtomicTask) -> list[tuple[CompositionStrategy, int]]:
        """``compositions_per_task`` (strategy, shape seed) pairs, fixed by the atomic task and the
        seed: distinct strategies first (by weight), then repeats with other shapes."""
        weights = {strategy: weight for strategy, weight in self.compositions.items() if weight > 0}
        variants: list[tuple[CompositionStrategy, int]] = []
        for number in range(self.compositions_per_task):
            key = content_id("compose", [atomic.id, number] if number else atomic.id, self.seed)
            rng = random.Random(key)
            unused = [strategy for strategy in weights if strategy not in {used for used, _ in variants}] or list(weights)
            strategy = rng.choices(unused, weights=[weights[s] for s in unused])[0]
            variants.append((strategy, rng.getrandbits(64)))
        return variants

    async def _compositional(self, atomic: AtomicTask, strategy: CompositionStrategy, shape_seed: int) -> CompositionalTask | None:
        compose: Composition = self.stages["compose"]  # type: ignore[assignment]
        with self._timed(compose.name):
            task = await compose.run(self.context, atomic, strategy, random.Random(shape_seed))
        if task is None:
            return None
        if not self._tasks_seen.first(task.text):
            self.stats.stage(compose.name).reject("duplicate")
            return None
        self.stats.stage(compose.name).keep()
        task_filter: TaskFilter = self.stages["filter"]  # type: ignore[assignment]
        with self._timed(task_filter.name):
            task = await task_filter.run(self.context, task, strategy.filters)
        if not task.kept:
            return task
        functions: FunctionGeneration = self.stages["functions"]  # type: ignore[assignment]
        with self._timed(functions.name):
            return await functions.run(self.context, task, strategy.filters)

    async def _from_scenario(self, scenario: Scenario, atomic_out: _Output) -> list[CompositionalTask]:
        """One scenario all the way: its atomic task, then each composition, filter, functions."""
        atomic_stage: AtomicTaskGeneration = self.stages["atomic_tasks"]  # type: ignore[assignment]
        with self._timed(atomic_stage.name):
            atomic = await atomic_stage.run(self.context, scenario)
        kept = self._keep_new(atomic_stage.name, [atomic], self._atomic_seen, atomic_out)
        if not kept:
            return []
        tasks = await asyncio.gather(*(self._compositional(kept[0], *variant) for variant in self._variants(kept[0])))
        return [task for task in tasks if task is not None]

    async def _grow(self, node: SeedConversation | Scenario) -> list[Scenario]:
        """New scenarios from a node: the one extracted from a seed, or those expanded from a scenario."""
        if isinstance(node, SeedConversation):
            extract: ScenarioExtraction = self.stages["extract_scenarios"]  # type: ignore[assignment]
            with self._timed(extract.name):
                extracted = await extract.run(self.context, node)
            return [extracted] if extracted is not None else []
        expand: ScenarioExpansion = self.stages["expand_scenarios"]  # type: ignore[assignment]
        with self._timed(expand.name):
            return await expand.run(self.context, node, self.scenarios_per_seed)

    def _growth(self, node: SeedConversation | Scenario) -> int:
        """How many scenarios growing ``node`` is expected to add."""
        return 1 if isinstance(node, SeedConversation) else self.scenarios_per_seed

    async def _pipeline(
        self, scenarios_out: _Output, atomic_out: _Output, demand: _Demand
    ) -> AsyncIterator[list[CompositionalTask]]:
        """Every scenario's tasks, in a fixed order, however long it takes to get enough.

        The material is a queue that starts with the seeds: growing a seed extracts a scenario,
        growing a scenario expands it into new ones, each appended (when new) to the queue.
        Growth runs a little ahead of need (while fewer than ``concurrency`` scenarios wait) and
        is merged strictly in queue order, so the queue, and so a rerun's output, does not depend
        on timing. Up to ``concurrency`` scenarios stream through the task stages at once, no
        more than ``demand`` says are worth starting; their results come out in queue order.
        The queue ends when growth stops giving new scenarios.
        """
        queue: list[SeedConversation | Scenario] = list(self.seeds)
        growing: list[asyncio.Task[list[Scenario]]] = []
        merged = launched = 0
        running = asyncio.Semaphore(self.concurrency)
        finished: asyncio.Queue[asyncio.Task[list[CompositionalTask]] | None] = asyncio.Queue(4 * self.concurrency)
        jobs: set[asyncio.Task[Any]] = set()

        def background(work: Any) -> asyncio.Task[Any]:
            job = asyncio.create_task(work)
            jobs.add(job)
            job.add_done_callback(jobs.discard)
            return job

        def grow_ahead() -> None:
            waiting = sum(isinstance(node, Scenario) for node in queue[launched:])
            expected = sum(self._growth(node) for node in queue[merged : len(growing)])
            while len(growing) < len(queue) and waiting + expected < self.concurrency and self._growth(queue[len(growing)]):
                expected += self._growth(queue[len(growing)])
                growing.append(background(self._grow(queue[len(growing)])))

        async def merge_next() -> None:
            nonlocal merged
            node = queue[merged]
            stage = "extract_scenarios" if isinstance(node, SeedConversation) else "expand_scenarios"
            queue.extend(self._keep_new(stage, await growing[merged], self._scenarios_seen, scenarios_out))
            merged += 1

        async def one_scenario(scenario: Scenario) -> list[CompositionalTask]:
            try:
                return await self._from_scenario(scenario, atomic_out)
            finally:
                running.release()

        async def feed() -> None:
            nonlocal launched
            while True:
                grow_ahead()
                if launched == len(queue):
                    if merged == len(growing):
                        break  # nothing left to grow: the material stopped being new
                    await merge_next()
                    continue
                node = queue[launched]
                launched += 1
                if isinstance(node, Scenario):
                    await demand.wait_for_need()
                    await running.acquire()
                    await finished.put(background(one_scenario(node)))
            await finished.put(None)

        feeder = asyncio.create_task(feed())
        try:
            while (job := await finished.get()) is not None:
                yield await job
            await feeder
        finally:
            for pending in (feeder, *jobs):
                pending.cancel()
            await asyncio.gather(feeder, *jobs, return_exceptions=True)

    async def generate(self, num_tasks: int) -> AsyncIterator[CompositionalTask]:
        """Tasks until ``num_tasks`` are kept, or until the material runs dry (``end_reason``
        says which: ``enough``, ``exhausted`` or ``no_new_tasks`` after ``patience`` scenarios
        in a row gave no kept task)."""
        kept = barren = 0
        self.end_reason = None
        with ExitStack() as stack:
            run_dir = self.run_dir
            scenarios_out = _Output(run_dir / "scenarios.jsonl" if run_dir else None, stack)
            atomic_out = _Output(run_dir / "atomic_tasks.jsonl" if run_dir else None, stack)
            demand = _Demand(num_tasks, float(self.compositions_per_task))
            async with aclosing(self._pipeline(scenarios_out, atomic_out, demand)) as scenarios:
                async for tasks in scenarios:
                    demand.finished_one(sum(task.kept for task in tasks))
                    barren = 0 if any(task.kept for task in tasks) else barren + 1
                    for task in tasks:
                        yield task
                        kept += task.kept
                        if kept >= num_tasks:
                            self.end_reason = "enough"
                            return
                    if barren >= self.patience:
                        self.end_reason = "no_new_tasks"
                        return
            self.end_reason = "exhausted"
