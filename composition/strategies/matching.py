"""Realize a strategy's shape from the typed library by matching output types to slot types.

The sink (the last task) is chosen first, then, walking back along the edges, each producer
is an entry whose answer is of the kind the consumer slot accepts (that kind or a narrower
one; see the loader), and never one the consumer's ``avoid_after`` rules out. The operands
of a reasoning step all answer with one exact kind, so a comparison is always like for like. Search is random
but bounded: a few candidates per node, pruned by how long a chain can end in each type, so
a miss is rare and cheap and is reported as NoTypeMatch.

Supported shapes are forests of in-trees: every task feeds at most one consumer (chains,
parallel-then-sequential, and independent tasks with no edges are); each tree is filled from
its sink. An entry never repeats along one path, so no task asks
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

from composition.library import LibraryEntry, Placed, SlotSpec, TaskLibrary, realize
from composition.strategies.shape import NoTypeMatch, TaskShape
from composition.world import World

CANDIDATES_PER_NODE = 12
# Operations whose answer does not depend on operand order: their operands are put in one
# fixed order, so "A or B" and "B or A" are one task, not two near-duplicates.
SYMMETRIC = frozenset({"max_of", "min_of", "sum", "average", "count"})
MAX_HEIGHT = 8
LITERAL_ATTEMPTS = 40


@dataclass(frozen=True)
class _Choice:
    entry: LibraryEntry
    slots: dict[int, str]  # producer index -> slot of ``entry`` it fills


@dataclass(frozen=True)
class _Want:
    """What a consumer slot asks of its producer: a kind (or exactly that kind), minus some entries."""

    kind: str
    exact: bool
    avoid: frozenset[str]


def fill_shape(
    library: TaskLibrary, shape: TaskShape, rng: random.Random, seed: int | None = None, world: World | None = None
) -> list[Placed]:
    """One atomic task per shape node, consumers' slots bound to their producers' answers.

    With a ``world``, literal slots draw from the world collection they name and a task stated
    with literals only gets values the world can answer (e.g. two cities joined by road)."""
    for index in range(shape.size):
        if len(shape.consumers(index)) > 1:
            raise ValueError(f"type matching needs every task to feed at most one consumer; task {index} feeds several")
    choices: dict[int, _Choice] = {}
    if not all(_fill(library, shape, sink, None, (), rng, choices) for sink in shape.sinks()):
        raise NoTypeMatch(f"no library entries fit a {shape.size}-task shape with edges {list(shape.edges)}")
    placed: list[Placed] = []
    used: set[tuple[str, str]] = set()
    for index in range(shape.size):
        choice = choices[index]
        bound = {slot: placed[producer] for producer, slot in choice.slots.items()}
        if choice.entry.operation in SYMMETRIC:
            bound = _in_text_order(bound)
        literals = _literals(choice.entry, set(bound), rng, used, world)
        shown = {slot: world.in_text(value) for slot, value in literals.items()} if world is not None else None
        placed.append(realize(choice.entry, index, literals, bound, seed, shown))
    return placed


def _in_text_order(bound: dict[str, Placed]) -> dict[str, Placed]:
    """The same producers given to the same slots in the order of their reference phrases."""
    ordered = sorted(bound.values(), key=lambda producer: producer.reference)
    return dict(zip(sorted(bound), ordered))


def _depth(shape: TaskShape, index: int) -> int:
    return 1 + max((_depth(shape, producer) for producer in shape.producers(index)), default=0)


def _fill(
    library: TaskLibrary,
    shape: TaskShape,
    index: int,
    want: _Want | None,
    ancestors: tuple[str, ...],
    rng: random.Random,
    choices: dict[int, _Choice],
) -> bool:
    producers = shape.producers(index)
    pool = _pool(library, want.kind if want else None, want.exact if want else False, len(producers))
    excluded = {*ancestors, *(want.avoid if want else ())}
    candidates = [entry for entry in pool if entry.id not in excluded]
    candidates = rng.sample(candidates, min(CANDIDATES_PER_NODE, len(candidates)))
    heights = _heights(library)
    needed = {producer: _depth(shape, producer) for producer in producers}
    for entry in candidates:
        for slots in _slot_assignments(entry, needed, heights, rng):
            for wants in _producer_wants(library, entry, slots, needed, heights, rng):
                if all(
                    _fill(library, shape, producer, wants[producer], (*ancestors, entry.id), rng, choices)
                    for producer in slots
                ):
                    choices[index] = _Choice(entry, slots)
                    return True
    return False


def _producer_wants(
    library: TaskLibrary,
    entry: LibraryEntry,
    slots: dict[int, str],
    needed: dict[int, int],
    heights: _Heights,
    rng: random.Random,
) -> list[dict[int, _Want]]:
    """What each producer must answer. A reasoning step compares like with like, so all its
    operands get one exact kind (two hotel rates, never a hotel rate and a fare)."""
    avoid = frozenset(entry.avoid_after)
    if not entry.is_reasoning or not slots:
        return [{p: _Want(entry.slots[slot].accepts, False, avoid) for p, slot in slots.items()}]
    accepted = next(iter(entry.slots.values())).accepts
    deepest = max(needed[p] for p in slots)
    kinds = sorted(
        kind
        for kind in {producer.produces for producer in library.feeders_of(accepted)}
        if heights.exact.get(kind, 0) >= deepest
    )
    rng.shuffle(kinds)
    return [{p: _Want(kind, True, avoid) for p in slots} for kind in kinds[:3]]


@lru_cache(maxsize=256)
def _pool(
    library: TaskLibrary, kind: str | None, exact: bool, producer_count: int
) -> tuple[LibraryEntry, ...]:
    """Entries answering ``kind`` (any, if None; only that kind, if exact) that can take ``producer_count`` producers."""
    if kind is None:
        entries = list(library.entries)
    else:
        entries = [e for e in library.feeders_of(kind) if not exact or e.produces == kind]
    return tuple(entry for entry in entries if _fits(entry, producer_count))


def _fits(entry: LibraryEntry, producer_count: int) -> bool:
    if entry.is_reasoning:
        return producer_count == len(entry.slots)
    return producer_count <= len(entry.slots)


def _slot_assignments(
    entry: LibraryEntry, needed: dict[int, int], heights: _Heights, rng: random.Random
) -> list[dict[int, str]]:
    """Ways to give each producer a distinct slot whose kind can end a chain that deep (a few)."""
    producers = list(needed)
    options = [
        dict(zip(producers, slots))
        for slots in itertools.permutations(entry.slots, len(producers))
        if all(heights.accepting.get(entry.slots[slot].accepts, 0) >= needed[p] for p, slot in zip(producers, slots))
    ]
    rng.shuffle(options)
    return options[:3]


@dataclass(frozen=True)
class _Heights:
    """The longest chain of tasks (capped) that can end in an answer a slot accepts, or of exactly a kind."""

    accepting: dict[str, int]
    exact: dict[str, int]


@lru_cache(maxsize=8)
def _heights(library: TaskLibrary) -> _Heights:
    entry_heights: dict[str, int] = {}
    accepting: dict[str, int] = {}
    for _ in range(MAX_HEIGHT):
        entry_heights = {
            entry.id: min(MAX_HEIGHT, 1 + max((accepting.get(s.accepts, 0) for s in entry.slots.values()), default=0))
            for entry in library.entries
        }
        updated = {
            kind: max(entry_heights[e.id] for e in library.feeders_of(kind))
            for entry in library.entries
            for spec in entry.slots.values()
            if library.feeders_of(kind := spec.accepts)
        }
        if updated == accepting:
            break
        accepting = updated
    exact: dict[str, int] = {}
    for entry in library.entries:
        exact[entry.produces] = max(exact.get(entry.produces, 0), entry_heights[entry.id])
    return _Heights(accepting, exact)


def _literals(
    entry: LibraryEntry, bound: set[str], rng: random.Random, used: set[tuple[str, str]], world: World | None
) -> dict[str, Any]:
    """Values for the unbound slots, avoiding a combination already used for this entry and,
    for a task stated with literals only, one the world cannot answer."""
    free = [slot for slot in entry.slots if slot not in bound]
    pools = [_values(entry.slots[slot], world) for slot in free]
    checked = world is not None and entry.function is not None and not bound
    fallback: dict[str, Any] | None = None
    for _ in range(LITERAL_ATTEMPTS):
        combo = tuple(rng.choice(pool) for pool in pools)
        key = (entry.id, repr((sorted(bound), combo)))
        literals = dict(zip(free, combo))
        if key in used:
            fallback = fallback or literals
            continue
        if checked and not world.call(entry.function.name, literals).found:  # type: ignore[union-attr]
            continue
        used.add(key)
        return literals
    return fallback or dict(zip(free, (pool[0] for pool in pools)))


def _values(spec: SlotSpec, world: World | None) -> tuple[Any, ...]:
    """The values a literal slot may take: its world collection when composing against a world."""
    if world is not None and spec.world is not None:
        return world.collection(spec.world)
    return tuple(spec.examples)
