"""SIGINT and SIGTERM sent to a real `python -m button`: one line, exit 130/143, stats.json
marked interrupted, no staging folder, whole records only; a rerun resumes to the end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_endpoint import LoopbackChatServer
from conftest import REPO, run_button
from environment.export.validate import check_export_file
from scale_responders import PipelineResponder
from test_kill_resume import check_complete, lines


def interrupt_after(arguments: list[str], path: Path, records: int, signum: int, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Start button, send ``signum`` once ``path`` holds ``records`` whole records, wait for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "button", *arguments], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + timeout
    while lines(path) < records and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_clean_stop(result: subprocess.CompletedProcess[str], run_dir: Path, signum: int) -> None:
    name = signal.Signals(signum).name
    assert result.returncode == 128 + signum, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [line for line in result.stderr.strip().splitlines() if line.startswith(f"button: interrupted by {name}")]
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    stats = json.loads((run_dir / "stats.json").read_text())
    assert stats["ending"]["interrupted"] == name
    assert not (run_dir / ".export-staging").exists()
    assert (run_dir / "trajectories.jsonl").read_bytes().endswith(b"\n")
    kept = stats["trajectories"]["kept"]
    for export in ("button", "openai", "sharegpt"):
        report = check_export_file(run_dir / "export" / f"{export}.jsonl", export)
        assert report.records == kept and report.problems == []


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(PipelineResponder(latency=0.02)) as running:
        yield running


def test_sigint_stops_an_llm_run_cleanly_and_a_rerun_resumes(server: LoopbackChatServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    arguments = [
        "model=openai",
        f"model.base_url={server.base_url}",
        "model.api_key_env=null",
        f"model.cache_dir={tmp_path / 'cache'}",
        "num_tasks=24",
        "runner.concurrency=4",
        f"hydra.run.dir={run_dir}",
    ]
    result = interrupt_after(arguments, run_dir / "trajectories.jsonl", 3, signal.SIGINT)
    assert_clean_stop(result, run_dir, signal.SIGINT)
    written = lines(run_dir / "trajectories.jsonl")
    assert written < 24
    served = len(server.requests)
    time.sleep(0.3)
    assert len(server.requests) == served  # no request after the process ended
    resumed = run_button(*arguments)
    assert resumed.returncode == 0, resumed.stderr
    check_complete(run_dir, 24)


def test_sigterm_stops_an_offline_run_with_143_and_a_rerun_resumes(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    arguments = ["num_tasks=400", "runner.conversations=4", f"hydra.run.dir={run_dir}"]
    result = interrupt_after(arguments, run_dir / "trajectories.jsonl", 20, signal.SIGTERM)
    assert_clean_stop(result, run_dir, signal.SIGTERM)
    resumed = run_button(*arguments)
    assert resumed.returncode == 0, resumed.stderr
    check_complete(run_dir, 400)
