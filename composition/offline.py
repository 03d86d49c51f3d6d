"""The offline bottom-up phase: compositional tasks from the typed library, no model needed.

Every choice comes from ``random.Random(seed)``, so a seed always yields the same tasks with
the same ids. By default the tasks are grounded in the world (``composition.world``): literal
values are its entities, and a task is kept only if running its gold plan on the world gives
an answer at every step (otherwise it is rejected as ``unanswerable``). Tasks stream out one
by one; only a set of text hashes is kept to refuse repeats, so memory stays flat however
many tasks are asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator
from typing import Any

from composition.errors import ConfigurationError
from composition.filters import structural_problems
from composition.ids import content_id
from composition.library import LibraryEntry, Placed, load_library, realize
from composition.models import AtomicTask, CompositionalTask, union_functions
from composition.source import TaskSource
from composition.strategies import CompositionStrategy, NoTypeMatch, weighted_strategies
from composition.world import World, load_world
from composition.world.plan import Unanswerable, solve

STAGE = "compose"
ATTEMPTS_PER_TASK = 20
YIELD_EVERY = 64


class LibraryTaskSource(TaskSource):
    """Composes tasks by type matching over the shipped library, with strategies drawn by weight."""

    def __init__(
        self, library_dir: str | None = None, world: bool = True, world_dir: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._strategies = weighted_strategies(self.strategies, self.composition)
        self.library = load_library(library_dir)
        self.world: World | None = load_world(world_dir) if world else None

    async def generate(self, num_tasks: int) -> AsyncIterator[CompositionalTask]:
        if num_tasks < 0:
            raise ConfigurationError(f"num_tasks must be >= 0, got {num_tasks}")
        rng = random.Random(self.seed)
        stage = self.stats.stage(STAGE)
        strategies = list(self._strategies)
        weights = list(self._strategies.values())
        seen: set[bytes] = set()
        kept = 0
        for attempt in range(num_tasks * ATTEMPTS_PER_TASK):
            if kept >= num_tasks:
                break
            started = stage.started()
            strategy = rng.choices(strategies, weights)[0]
            task = self._compose(strategy, rng, seen, attempt)
            stage.finished(started)
            if task.kept:
                kept += 1
                stage.keep()
            else:
                stage.reject(task.reject_reason or "rejected")
            yield task
            if attempt % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)

    def _compose(
        self, strategy: CompositionStrategy, rng: random.Random, seen: set[bytes], attempt: int
    ) -> CompositionalTask:
        try:
            placed = strategy.compose(self.library, rng, self.seed, self.world)
        except ValueError as error:  # a shape type matching cannot realize: the strategy's fault, not the task's
            raise ConfigurationError(
                f"composition.strategies: strategy {strategy.name!r} drew a shape the library cannot realize ({error}); "
                "give it a compose method for that shape"
            ) from None
        except NoTypeMatch:
            # A record needs one atomic task; a library entry stated with its first examples
            # stands in, since the rejection reason is what this record reports.
            entry = rng.choice(self.library.entries)
            lone = realize(entry, 0, _examples(entry), {}, self.seed)
            return self._task(strategy.name, [lone], [], attempt, NoTypeMatch.reason)
        edges = [(p.index, consumer) for consumer, c in enumerate(placed) for p in _producers(c, placed)]
        task = self._task(strategy.name, placed, edges, attempt, None)
        problems = structural_problems(task, strategy.filters)
        if problems:
            return self._task(strategy.name, placed, edges, attempt, problems[0])
        if self.world is not None:
            try:
                solve(self.world, task)
            except Unanswerable as problem:
                return self._task(strategy.name, placed, edges, attempt, problem.reason)
        digest = hashlib.blake2b(" ".join(task.text.casefold().split()).encode(), digest_size=12).digest()
        if digest in seen:
            return self._task(strategy.name, placed, edges, attempt, "duplicate")
        seen.add(digest)
        return task

    def _task(
        self,
        strategy: str,
        placed: list[Placed],
        edges: list[tuple[int, int]],
        attempt: int,
        reject_reason: str | None,
    ) -> CompositionalTask:
        """A kept task's id hashes its content; a rejected one's also its attempt, so ids never clash."""
        atomic = [p.task for p in placed]
        text = _composed_text(atomic, edges)
        payload: dict[str, Any] = {"strategy": strategy, "text": text, "atomic": [a.id for a in atomic], "edges": edges}
        if reject_reason is not None:
            payload.update(rejected=reject_reason, attempt=attempt)
        return CompositionalTask(
            id=content_id("task", payload, self.seed),
            text=text,
            strategy=strategy,
            atomic_tasks=atomic,
            edges=edges,
            functions=union_functions(atomic),
            kept=reject_reason is None,
            reject_reason=reject_reason,
        )


def _composed_text(atomic: list[AtomicTask], edges: list[tuple[int, int]]) -> str:
    """The request the user makes: every sink's text (a consumer's text already names its
    producers), so independent tasks are all asked and a chain is asked once."""
    producers = {source for source, _ in edges}
    return " ".join(task.text for index, task in enumerate(atomic) if index not in producers)


def _producers(consumer: Placed, placed: list[Placed]) -> list[Placed]:
    step = consumer.task.step
    indices = sorted({ref.task for ref in step.bindings.values()}) if step else []
    return [placed[i] for i in indices]


def _examples(entry: LibraryEntry) -> dict[str, Any]:
    return {slot: spec.examples[0] for slot, spec in entry.slots.items()}
