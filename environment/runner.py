"""Streams compositional tasks through conversations and verification, writing as it goes.

Tasks are consumed lazily from the source while at most ``concurrency`` conversations run, so
memory stays flat however many tasks a run has, and a slow conversation never idles the rest.
Every record is appended whole the moment it is final; on a rerun in the same directory, the
task ids and trajectory ids already on disk are skipped, so nothing is redone or written twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tqdm import tqdm

from composition.jsonl import JsonlWriter, read_records
from composition.models import CompositionalTask
from environment.controller import EnvironmentController
from environment.run_files import RunFiles
from environment.trajectory import Termination, Trajectory
from environment.verification import Verifier

log = logging.getLogger(__name__)


@dataclass
class RunTimings:
    """Seconds spent waiting for the bottom-up source and in conversations (summed over tasks)."""

    compose: float = 0.0
    converse: float = 0.0
    wall: float = 0.0
    new_trajectories: int = 0
    runner_errors: dict[str, int] = field(default_factory=dict)


class ConversationRunner:
    """Runs one conversation per kept task, concurrently, and records every outcome."""

    def __init__(
        self,
        controller: EnvironmentController,
        verifier: Verifier,
        files: RunFiles,
        *,
        concurrency: int = 16,
        conversation_timeout: float | None = None,
        progress: bool | None = None,
    ) -> None:
        self.controller = controller
        self.verifier = verifier
        self.files = files
        self.concurrency = concurrency
        self.conversation_timeout = conversation_timeout
        self.progress = progress
        self.timings = RunTimings()

    async def run(self, tasks: AsyncIterator[CompositionalTask]) -> RunTimings:
        started = time.perf_counter()
        written_tasks = {record["id"] for record in read_records(self.files.tasks)}
        finished_tasks = {record["task_id"] for record in read_records(self.files.trajectories)}
        slots = asyncio.Semaphore(self.concurrency)
        running: set[asyncio.Task[None]] = set()
        disable = None if self.progress is None else not self.progress
        with (
            JsonlWriter(self.files.tasks) as task_writer,
            JsonlWriter(self.files.trajectories) as trajectory_writer,
            tqdm(desc="tasks", unit="task", disable=disable, position=0) as task_bar,
            tqdm(desc="conversations", unit="conv", disable=disable, position=1) as conversation_bar,
        ):
            kept_trajectories = 0

            async def converse(task: CompositionalTask) -> None:
                nonlocal kept_trajectories
                try:
                    trajectory = await self._converse(task)
                    trajectory_writer.write(trajectory)
                    kept_trajectories += trajectory.kept
                    self.timings.new_trajectories += 1
                    conversation_bar.update()
                    conversation_bar.set_postfix(kept=kept_trajectories, refresh=False)
                finally:
                    slots.release()

            waited = time.perf_counter()
            async for task in tasks:
                self.timings.compose += time.perf_counter() - waited
                if task.id not in written_tasks:
                    task_writer.write(task)
                    written_tasks.add(task.id)
                task_bar.update()
                if task.kept and task.id not in finished_tasks:
                    finished_tasks.add(task.id)
                    await slots.acquire()
                    job = asyncio.create_task(converse(task))
                    running.add(job)
                    job.add_done_callback(self._forget(running))
                waited = time.perf_counter()
            if running:
                await asyncio.gather(*running)
        self.timings.wall = time.perf_counter() - started
        return self.timings

    def _forget(self, running: set[asyncio.Task[None]]):  # type: ignore[no-untyped-def]
        def done(job: asyncio.Task[None]) -> None:
            running.discard(job)
            if not job.cancelled() and job.exception() is not None:
                kind = type(job.exception()).__name__
                self.timings.runner_errors[kind] = self.timings.runner_errors.get(kind, 0) + 1
                log.error("conversation failed outside the controller: %s", job.exception())

        return done

    async def _converse(self, task: CompositionalTask) -> Trajectory:
        started = time.perf_counter()
        try:
            trajectory = await asyncio.wait_for(self.controller.run(task), self.conversation_timeout)
        except asyncio.TimeoutError:
            trajectory = self.controller.timed_out(task, self.conversation_timeout or 0.0)
        self.timings.converse += time.perf_counter() - started
        if trajectory.termination is Termination.TIMEOUT:
            return trajectory
        return await self.verifier.verify(trajectory, task)
