"""One writer per run directory: a lock file taken before anything is written into it.

The lock is an OS file lock (``filelock``: flock on POSIX), so the kernel releases it when
its process dies however it dies; a lock file left by a killed run is simply taken over.
The file also says who holds it (pid, host, start time), so a second process can name the
holder in its one-line error. Holding is re-entrant within a process: the CLI takes the lock
before Hydra saves its config, and the pipeline takes it again for the run itself.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from composition.errors import ButtonError

LOCK_NAME = ".button.lock"

_locks: dict[Path, FileLock] = {}


class RunDirectoryBusy(ButtonError):
    """Another process is writing the same run directory."""


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"


def acquire(run_dir: Path) -> FileLock:
    """Take (or take again) the lock of ``run_dir``, creating the directory; OSError when it
    cannot be written, RunDirectoryBusy when another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir.resolve() / LOCK_NAME
    lock = _locks.setdefault(path, FileLock(path, timeout=0))
    try:
        lock.acquire()
    except Timeout:
        raise RunDirectoryBusy(
            f"run directory {run_dir} is in use by {_holder(path)}; wait for that run to end or choose another hydra.run.dir"
        ) from None
    if lock.lock_counter == 1:
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path.write_text(f"pid {os.getpid()} on {socket.gethostname()} since {started}\n")
    return lock


@contextmanager
def hold_run_directory(run_dir: Path) -> Iterator[None]:
    """Hold the lock of ``run_dir`` for the duration of the block."""
    lock = acquire(run_dir)
    try:
        yield
    finally:
        lock.release()
