"""Where ``button eval`` takes its tasks: a held-out library set, or a run directory's kept tasks.

The held-out set is composed like a generation run's tasks but in its own seed namespace
(``eval/<seed>``), so it is reproducible, its ids never coincide with a run's, and its draws are
not the generator's draws for any seed. Run-directory tasks come with their kept trajectories,
which serve as reference answers when no world tells the truth.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from composition.errors import ConfigurationError
from composition.jsonl import read_records
from composition.models import CompositionalTask
from composition.offline import LibraryTaskSource
from composition.source import TaskSource
from environment.run_files import RunFiles
from environment.trajectory import Trajectory


def namespaced_seed(seed: int) -> int:
    """The library seed of evaluation set ``seed``: a hash of ``eval/<seed>``, apart from run seeds' draws."""
    return int.from_bytes(hashlib.sha256(f"eval/{seed}".encode()).digest()[:8], "big")


class HeldOutLibrary(LibraryTaskSource):
    """Library tasks (grounded in the world) drawn with the evaluation set's own seed."""

    def __init__(self, eval_seed: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = namespaced_seed(eval_seed)


def run_directory(path: str | Path, key: str) -> RunFiles:
    """A run directory named by ``eval.<key>``; a clear error when it holds no tasks."""
    files = RunFiles(Path(path))
    if not files.tasks.is_file():
        raise ConfigurationError(f"eval.{key}={path}: no tasks.jsonl there; name a directory `button` generated")
    return files


def kept_tasks(files: RunFiles) -> list[CompositionalTask]:
    """A run's kept tasks that have a kept trajectory, in the order of tasks.jsonl, each once."""
    kept = {record["task_id"] for record in read_records(files.trajectories) if record.get("kept")}
    tasks: dict[str, CompositionalTask] = {}
    for record in read_records(files.tasks):
        if record.get("kept") and record["id"] in kept:
            tasks.setdefault(record["id"], CompositionalTask.model_validate(record))
    return list(tasks.values())


def references(files: RunFiles) -> dict[str, Trajectory]:
    """A run's kept trajectories by task id: the reference conversations of its tasks."""
    return {
        record["task_id"]: Trajectory.model_validate(record)
        for record in read_records(files.trajectories)
        if record.get("kept")
    }


class RunDirectoryTasks(TaskSource):
    """The kept tasks of a run directory (``eval.tasks``), at most ``num_tasks`` of them."""

    def __init__(self, tasks_dir: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.files = run_directory(tasks_dir, "tasks")

    async def generate(self, num_tasks: int) -> AsyncIterator[CompositionalTask]:
        for task in kept_tasks(self.files)[:num_tasks]:
            yield task


def task_key(task: CompositionalTask) -> tuple[str, frozenset[str]]:
    """What contamination compares: the task's text (case and spacing aside) and its function set."""
    return " ".join(task.text.casefold().split()), frozenset(spec.name for spec in task.functions)


def overlap(tasks: list[CompositionalTask], train_dir: str) -> dict[str, Any]:
    """How many evaluation tasks a training run shares: same text, same function set."""
    train = [task_key(task) for task in kept_tasks(run_directory(train_dir, "train"))]
    texts = {text for text, _ in train}
    function_sets = {functions for _, functions in train}
    same_text = [task.id for task in tasks if task_key(task)[0] in texts]
    same_functions = [task.id for task in tasks if task_key(task)[1] in function_sets]
    return {
        "train": str(train_dir),
        "train_tasks": len(train),
        "same_text": len(same_text),
        "same_functions": len(same_functions),
        "same_text_tasks": same_text,
    }
