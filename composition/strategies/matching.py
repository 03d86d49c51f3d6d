"""Realize a strategy's shape from the typed library by matching output types to slot types.

The sink (the last task) is chosen first, then, walking back along the edges, each producer
is an entry whose output type is the type of the consumer slot it fills. Search is random
but bounded: a few candidates per node, pruned by how long a chain can end in each type, so
a miss is rare and cheap and is reported as NoTypeMatch.

Supported shapes are in-trees: every task except the last feeds exactly one consumer (chains
and parallel-then-sequential are). An entry never repeats along one path, so no task asks
for "the capital of the country whose capital is ...". Reasoning entries (no function) only
appear with every slot filled by a producer; the first tasks of a shape are always function
calls stated with literal values.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from composition.library import LibraryEntry, Placed, TaskLibrary, realize
from composition.strategies.shape import NoTypeMatch, TaskShape

CANDIDATES_PER_NODE = 12
MAX_HEIGHT = 8


@dataclass(frozen=True)
class _Choice:
    entry: LibraryEntry
    slots: dict[int, str]  # producer index -> slot of ``entry`` it fills


def fill_shape(library: TaskLibrary, shape: TaskShape, rng: random.Random, seed: int | None = None) -> list[Placed]:
    """One atomic task per shape node, consumers' slots bound to their producers' answers."""
    for index in range(shape.size - 1):
        if len(shape.consumers(index)) != 1:
            raise ValueError(f"type matching needs every task but the last to feed one consumer; task {index} does not")
    choices: dict[int, _Choice] = {}
    if not _fill(library, shape, shape.size - 1, None, (), rng, choices):
        raise NoTypeMatch(f"no library entries fit a {shape.size}-task shape with edges {list(shape.edges)}")
    placed: list[Placed] = []
    used: set[tuple[str, str]] = set()
    for index in range(shape.size):
        choice = choices[index]
        bound = {slot: placed[producer] for producer, slot in choice.slots.items()}
        literals = _literals(choice.entry, set(bound), rng, used)
        placed.append(realize(choice.entry, index, literals, bound, seed))
    return placed


def _depth(shape: TaskShape, index: int) -> int:
    return 1 + max((_depth(shape, producer) for producer in shape.producers(index)), default=0)


def _fill(
    library: TaskLibrary,
    shape: TaskShape,
    index: int,
    consumer: tuple[LibraryEntry, str] | None,
    ancestors: tuple[str, ...],
    rng: random.Random,
    choices: dict[int, _Choice],
) -> bool:
    producers = shape.producers(index)
    if consumer is None:
        pool, excluded = _pool(library, None, len(producers)), set(ancestors)
    else:
        entry, slot = consumer
        pool = _pool(library, entry.slots[slot].type, len(producers))
        excluded = {*ancestors, *entry.avoid_after}
    candidates = [entry for entry in pool if entry.id not in excluded]
    candidates = rng.sample(candidates, min(CANDIDATES_PER_NODE, len(candidates)))
    heights = _type_heights(library)
    needed = {producer: _depth(shape, producer) for producer in producers}
    for entry in candidates:
        for slots in _slot_assignments(entry, needed, heights, rng):
            if all(
                _fill(library, shape, producer, (entry, slot), (*ancestors, entry.id), rng, choices)
                for producer, slot in slots.items()
            ):
                choices[index] = _Choice(entry, slots)
                return True
    return False


@lru_cache(maxsize=256)
def _pool(library: TaskLibrary, semantic_type: str | None, producer_count: int) -> tuple[LibraryEntry, ...]:
    """Entries answering ``semantic_type`` (any, if None) that can take ``producer_count`` producers."""
    entries = library.producers_of(semantic_type) if semantic_type else library.entries
    return tuple(entry for entry in entries if _fits(entry, producer_count))


def _fits(entry: LibraryEntry, producer_count: int) -> bool:
    if entry.is_reasoning:
        return producer_count == len(entry.slots)
    return producer_count <= len(entry.slots)


def _slot_assignments(
    entry: LibraryEntry, needed: dict[int, int], heights: dict[str, int], rng: random.Random
) -> list[dict[int, str]]:
    """Ways to give each producer a distinct slot whose type can end a chain that deep (a few)."""
    producers = list(needed)
    options = [
        dict(zip(producers, slots))
        for slots in itertools.permutations(entry.slots, len(producers))
        if all(heights.get(entry.slots[slot].type, 0) >= needed[p] for p, slot in zip(producers, slots))
    ]
    rng.shuffle(options)
    return options[:3]


@lru_cache(maxsize=8)
def _type_heights(library: TaskLibrary) -> dict[str, int]:
    """For each type, the longest chain of tasks that can end in an answer of that type (capped)."""
    heights: dict[str, int] = {}
    for _ in range(MAX_HEIGHT):
        updated = {
            semantic_type: min(
                MAX_HEIGHT,
                max(1 + max((heights.get(s.type, 0) for s in e.slots.values()), default=0) for e in entries),
            )
            for semantic_type in library.types
            if (entries := library.producers_of(semantic_type))
        }
        if updated == heights:
            break
        heights = updated
    return heights


def _literals(entry: LibraryEntry, bound: set[str], rng: random.Random, used: set[tuple[str, str]]) -> dict[str, Any]:
    """Example values for the unbound slots, avoiding a combination already used for this entry."""
    free = [slot for slot in entry.slots if slot not in bound]
    combos = list(itertools.product(*(entry.slots[slot].examples for slot in free)))
    rng.shuffle(combos)
    for combo in combos:
        key = (entry.id, repr((sorted(bound), combo)))
        if key not in used:
            used.add(key)
            return dict(zip(free, combo))
    return dict(zip(free, combos[0]))
