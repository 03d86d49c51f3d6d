"""Structural checks on a compositional task, each failure a stable reason code.

They need no model, so they run on every task: the offline library's compositions and the
tasks a language model writes (whose atomic tasks have no gold ``step``; checks that read
steps skip those). A task with any problem is rejected with the first code as its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from composition.models import CompositionalTask

Check = Callable[[CompositionalTask], bool]


def _normalized(text: str) -> str:
    return " ".join(text.casefold().split())


def has_self_edge(task: CompositionalTask) -> bool:
    return any(source == target for source, target in task.edges)


def has_duplicate_edge(task: CompositionalTask) -> bool:
    return len(set(task.edges)) != len(task.edges)


def has_cycle(task: CompositionalTask) -> bool:
    """A cycle among distinct tasks (self-edges have their own code)."""
    remaining = set(range(len(task.atomic_tasks)))
    edges = {(s, t) for s, t in task.edges if s != t}
    while remaining:
        ready = {i for i in remaining if not any(s in remaining and t == i for s, t in edges)}
        if not ready:
            return True
        remaining -= ready
    return False


def has_disconnected_task(task: CompositionalTask) -> bool:
    """Some atomic task is not linked, through edges in either direction, to the others."""
    size = len(task.atomic_tasks)
    if size < 2:
        return False
    neighbours: dict[int, set[int]] = {i: set() for i in range(size)}
    for source, target in task.edges:
        neighbours[source].add(target)
        neighbours[target].add(source)
    reached, frontier = {0}, [0]
    while frontier:
        for other in neighbours[frontier.pop()] - reached:
            reached.add(other)
            frontier.append(other)
    return len(reached) != size


def has_unbound_input(task: CompositionalTask) -> bool:
    """A step reads the output of a task that is not one of its producers."""
    edges = set(task.edges)
    return any(
        (ref.task, index) not in edges
        for index, atomic in enumerate(task.atomic_tasks)
        if atomic.step is not None
        for ref in atomic.step.bindings.values()
    )


def has_unused_edge(task: CompositionalTask) -> bool:
    """An edge into a task with a gold step that never reads that producer's output."""
    for source, target in task.edges:
        step = task.atomic_tasks[target].step if 0 <= target < len(task.atomic_tasks) else None
        if step is not None and all(ref.task != source for ref in step.bindings.values()):
            return True
    return False


def has_function_missing(task: CompositionalTask) -> bool:
    """A step or an atomic task names a function the compositional task does not offer."""
    offered = {spec.name for spec in task.functions}
    for atomic in task.atomic_tasks:
        if any(spec.name not in offered for spec in atomic.functions):
            return True
        if atomic.step is not None and atomic.step.function is not None and atomic.step.function not in offered:
            return True
    return False


def has_duplicate_atomic_task(task: CompositionalTask) -> bool:
    texts = [_normalized(atomic.text) for atomic in task.atomic_tasks]
    return len(set(texts)) != len(texts)


def has_text_naming_function(task: CompositionalTask) -> bool:
    """The user-facing text gives away a tool name (the assistant must find it from the list)."""
    names = {spec.name for spec in task.functions}
    names.update(a.step.function for a in task.atomic_tasks if a.step is not None and a.step.function)
    return any(re.search(rf"\b{re.escape(name)}\b", task.text, re.IGNORECASE) for name in names)


CHECKS: dict[str, Check] = {
    "self_edge": has_self_edge,
    "duplicate_edge": has_duplicate_edge,
    "cycle": has_cycle,
    "disconnected_task": has_disconnected_task,
    "unbound_input": has_unbound_input,
    "unused_edge": has_unused_edge,
    "function_missing": has_function_missing,
    "duplicate_atomic_task": has_duplicate_atomic_task,
    "text_names_function": has_text_naming_function,
}


def structural_problems(task: CompositionalTask, codes: Iterable[str] | None = None) -> list[str]:
    """The reason codes of every check the task fails, in the fixed order of ``CHECKS``.

    ``codes`` limits the checks to those a strategy declares (its ``filters``); None runs all."""
    chosen = set(CHECKS if codes is None else codes)
    return [code for code, check in CHECKS.items() if code in chosen and check(task)]
