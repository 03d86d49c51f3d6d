"""What the scenarios read back from a run: message counts, rejections, export validity, child rusage."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from composition.jsonl import read_records
from environment.export.validate import check_export_file
from environment.run_files import RunFiles


@dataclass(frozen=True)
class RunContent:
    trajectories: int
    kept: int
    messages: int
    unexplained_rejections: int
    reject_reasons: dict[str, int]


def read_run(run_dir: Path) -> RunContent:
    """Counts over trajectories.jsonl; a rejection without ``reject_reason`` is unexplained."""
    trajectories = kept = messages = unexplained = 0
    reasons: dict[str, int] = {}
    for record in read_records(RunFiles(run_dir).trajectories):
        trajectories += 1
        messages += len(record["messages"])
        if record["kept"]:
            kept += 1
        elif not record.get("reject_reason"):
            unexplained += 1
        else:
            reason = str(record["reject_reason"]).split(":", 1)[0]
            reasons[reason] = reasons.get(reason, 0) + 1
    return RunContent(trajectories, kept, messages, unexplained, reasons)


def export_problems(run_dir: Path) -> dict[str, list[str]]:
    """Every export file read strictly (environment/export/validate.py), problems by format."""
    export_dir = RunFiles(run_dir).export_dir
    return {path.stem: check_export_file(path, path.stem).problems for path in sorted(export_dir.glob("*.jsonl"))}


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    wall: float
    cpu: float
    max_rss_mb: float
    stdout: str
    stderr: str


def run_child(arguments: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> ChildRun:
    """Run ``python <arguments>`` and read its own rusage via os.wait4 (other children do not mix in).

    Output goes to temporary files rather than pipes so that nothing but wait4 reaps the child.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *arguments], env={**os.environ, **(env or {})}, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                raise TimeoutError(f"{arguments} did not finish within {timeout} s")
            time.sleep(0.02)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return ChildRun(process.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read(), err.read())
