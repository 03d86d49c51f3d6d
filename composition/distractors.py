"""Distractor tools: extra library functions offered beside a task's own.

A model trained only on conversations whose tool list is exactly what the task needs never
learns to pick the right tool. ``with_distractors`` adds ``count`` functions of the shipped
library that the task does not use, chosen deterministically from (seed, task id), so a
rerun offers the same list. The task's own functions keep their place at the front.
"""

from __future__ import annotations

import random

from composition.library import load_library
from composition.models import CompositionalTask, FunctionSpec


def library_functions() -> list[FunctionSpec]:
    """Every function of the shipped library, once each, in library order."""
    seen: dict[str, FunctionSpec] = {}
    for entry in load_library().entries:
        if entry.function is not None:
            seen.setdefault(entry.function.name, entry.function)
    return list(seen.values())


def with_distractors(task: CompositionalTask, count: int, seed: int = 0) -> CompositionalTask:
    """``task`` with ``count`` unused library functions appended to its tool list (or as is, for 0)."""
    if count <= 0:
        return task
    own = {spec.name for spec in task.functions}
    pool = [spec for spec in library_functions() if spec.name not in own]
    extra = random.Random(f"distractors:{seed}:{task.id}").sample(pool, min(count, len(pool)))
    return task.model_copy(update={"functions": [*task.functions, *extra]})
