"""Streams compositional tasks through conversations and verification, writing as it goes.

Tasks are consumed lazily from the source while at most ``conversations`` conversations run,
so memory stays flat however many tasks a run has and a slow conversation never idles the
rest (model requests are bounded separately, per endpoint, by agents.endpoint_limits). Every record
is appended whole the moment it is final.

Resume: before asking the source for anything, the runner reads the run directory. Kept tasks
on disk without a trajectory (a killed run's conversations in flight) are played first; tasks
and trajectories already on disk are never written again; once ``limit`` kept tasks exist the
source is not asked for more, so a finished run re-run in place sends no request at all, and
a source that regenerates in a different order cannot add tasks beyond the limit.

Stopping (:meth:`ConversationRunner.stop`, on SIGINT/SIGTERM) closes the source and cancels the
conversations in flight; nothing half-done is written, so a rerun resumes them. A record that
cannot be written (a full disk, a read-only directory) stops the run the same way and is raised.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass, field

from agents.endpoint_limits import begin_conversation
from composition.jsonl import JsonlWriter, is_write_failure, read_records
from composition.models import CompositionalTask
from composition.stats import PipelineStats
from environment.controller import EnvironmentController
from environment.progress import ProgressBoard, Usage, wants_progress
from environment.run_files import RunFiles
from environment.trajectory import Termination, Trajectory
from environment.verification import Verifier

log = logging.getLogger(__name__)

#: The stage name conversations are counted under in stats.json and on the progress bars.
CONVERSE = "converse"


@dataclass
class RunTimings:
    """Seconds waiting for the source, in conversations (summed and wall), and in total."""

    compose: float = 0.0
    converse: float = 0.0
    converse_wall: float = 0.0
    wall: float = 0.0
    new_trajectories: int = 0
    resumed_conversations: int = 0
    runner_errors: dict[str, int] = field(default_factory=dict)


@dataclass
class _OnDisk:
    """What a previous run in the same directory already finished."""

    tasks: set[str]
    kept_tasks: int
    finished: set[str]
    unfinished: list[CompositionalTask]

    @classmethod
    def read(cls, files: RunFiles) -> _OnDisk:
        finished = {record["task_id"] for record in read_records(files.trajectories)}
        tasks: set[str] = set()
        kept = 0
        unfinished: list[CompositionalTask] = []
        for record in read_records(files.tasks):
            if record["id"] in tasks:
                continue
            tasks.add(record["id"])
            if record.get("kept"):
                kept += 1
                if record["id"] not in finished:
                    unfinished.append(CompositionalTask.model_validate(record))
        return cls(tasks, kept, finished, unfinished)


class ConversationRunner:
    """Runs one conversation per kept task, concurrently, and records every outcome.

    ``on_kept`` is handed each newly kept trajectory once it is on disk (the app streams them
    into the export files). ``conversations`` and ``conversation_timeout`` arrive validated, as
    every ``runner`` key is (button.settings.RunnerSettings).
    """

    def __init__(
        self,
        controller: EnvironmentController,
        verifier: Verifier,
        files: RunFiles,
        *,
        conversations: int = 32,
        conversation_timeout: float | None = None,
        stats: PipelineStats | None = None,
        progress: bool | None = None,
        usage: Usage | None = None,
        on_kept: Callable[[Trajectory], None] | None = None,
    ) -> None:
        self.controller = controller
        self.verifier = verifier
        self.files = files
        self.conversations = conversations
        self.conversation_timeout = conversation_timeout
        self.stats = stats if stats is not None else PipelineStats()
        self.progress = progress
        self.usage = usage
        self.on_kept = on_kept
        self.timings = RunTimings()
        self.stopped = False
        self.failure: BaseException | None = None
        self._feeder: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, tasks: AsyncIterator[CompositionalTask], limit: int | None = None) -> RunTimings:
        """Play every kept task of ``tasks`` (and any a killed run left unplayed) until ``limit``
        kept tasks exist in the run directory, or until :meth:`stop`; returns what this
        invocation did. A record the disk refuses (full, read-only) stops the run and is raised."""
        started = time.perf_counter()
        disk = _OnDisk.read(self.files)
        slots = asyncio.Semaphore(self.conversations)
        running: set[asyncio.Task[None]] = self._running
        async with AsyncExitStack() as stack:
            if wants_progress(self.progress):
                await stack.enter_async_context(ProgressBoard(self.stats, self.usage))
            task_writer = stack.enter_context(JsonlWriter(self.files.tasks))
            trajectory_writer = stack.enter_context(JsonlWriter(self.files.trajectories))

            async def converse(task: CompositionalTask) -> None:
                begin_conversation()  # the endpoint serves the least-advanced conversation first
                stage = self.stats.stage(CONVERSE)  # named on first use, so stages list in pipeline order
                began = stage.started()
                try:
                    trajectory = await self._converse(task)
                    trajectory_writer.write(trajectory)
                    self.timings.new_trajectories += 1
                    if trajectory.kept:
                        stage.keep()
                        if self.on_kept is not None:
                            self.on_kept(trajectory)
                    else:
                        stage.reject(trajectory.reject_reason or trajectory.termination.value)
                finally:
                    stage.finished(began)
                    slots.release()

            async def start(task: CompositionalTask) -> None:
                disk.finished.add(task.id)
                await slots.acquire()
                job = asyncio.create_task(converse(task))
                running.add(job)
                job.add_done_callback(self._forget(running))
                await asyncio.sleep(0)  # let it send its first request before the next task is composed

            async def feed() -> None:
                for task in disk.unfinished:
                    self.timings.resumed_conversations += 1
                    await start(task)
                kept = disk.kept_tasks
                if limit is not None and kept >= limit:
                    return
                async with aclosing(tasks) as source:
                    waited = time.perf_counter()
                    async for task in source:
                        self.timings.compose += time.perf_counter() - waited
                        if task.id not in disk.tasks:
                            task_writer.write(task)
                            disk.tasks.add(task.id)
                            kept += task.kept
                        if task.kept and task.id not in disk.finished:
                            await start(task)
                        if limit is not None and kept >= limit:
                            break
                        waited = time.perf_counter()

            self._feeder = asyncio.create_task(feed())
            if self.stopped:
                self._feeder.cancel()
            await asyncio.wait({self._feeder})
            if not self._feeder.cancelled() and self._feeder.exception() is not None:
                self._fail(self._feeder.exception())  # type: ignore[arg-type]
            while running:
                await asyncio.wait(set(running))
        conversed = self.stats.stages.get(CONVERSE)
        self.timings.converse_wall = conversed.wall_seconds if conversed is not None else 0.0
        self.timings.wall = time.perf_counter() - started
        if self.failure is not None:
            raise self.failure
        return self.timings

    def stop(self) -> None:
        """Start no new work: the source is closed and conversations in flight are cancelled
        (a cancelled conversation writes nothing and is played again on resume)."""
        self.stopped = True
        for job in (self._feeder, *self._running):
            if job is not None:
                job.cancel()

    def _fail(self, error: BaseException) -> None:
        """A record could not be written: remember the first such error and stop the run."""
        if self.failure is None:
            self.failure = error
        self.stop()

    def _forget(self, running: set[asyncio.Task[None]]):  # type: ignore[no-untyped-def]
        def done(job: asyncio.Task[None]) -> None:
            running.discard(job)
            if not job.cancelled() and is_write_failure(job.exception()):  # type: ignore[arg-type]
                self._fail(job.exception())  # type: ignore[arg-type]
            elif not job.cancelled() and job.exception() is not None:
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
