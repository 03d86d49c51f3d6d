"""The run directory has one writer, keeps its settings, and survives a read-only or full disk.

Full disks are real: a subprocess with a file-size limit (RLIMIT_FSIZE, any user) and, where
the test may mount one (root), a tiny tmpfs; read-only is a read-only mount (root) or chmod.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from fake_endpoint import LoopbackChatServer
from button.run_lock import LOCK_NAME, acquire
from conftest import REPO, read_jsonl, run_button
from scale_responders import PipelineResponder
from test_kill_resume import check_complete


def one_line_error(stderr: str, starts: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith(starts), lines[0]
    return lines[0]


# --- one writer ----------------------------------------------------------------------------------


def test_a_second_process_fails_fast_naming_the_holder(tmp_path: Path) -> None:
    lock = acquire(tmp_path)  # this test process holds the run directory
    try:
        result = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=2")
    finally:
        lock.release()
    assert result.returncode == 4
    line = one_line_error(result.stderr, "button: error: run directory")
    assert f"in use by pid {os.getpid()}" in line
    assert not (tmp_path / ".hydra").exists()  # refused before Hydra wrote its config


def test_two_runs_on_one_directory_leave_it_whole(tmp_path: Path) -> None:
    arguments = [sys.executable, "-m", "button", f"hydra.run.dir={tmp_path}", "num_tasks=200", "runner.conversations=4"]
    first = subprocess.Popen(arguments, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(arguments, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    outcomes = sorted([(first.wait(timeout=240), first.stderr.read()), (second.wait(timeout=240), second.stderr.read())])
    assert [code for code, _ in outcomes] == [0, 4], outcomes
    one_line_error(outcomes[1][1], "button: error: run directory")
    check_complete(tmp_path, 200)
    again = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=200")
    assert again.returncode == 0 and len(read_jsonl(tmp_path / "export" / "button.jsonl")) == json.loads((tmp_path / "stats.json").read_text())["trajectories"]["kept"]


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from pathlib import Path; from button.run_lock import acquire; acquire(Path({str(tmp_path)!r})); print('held', flush=True); import time; time.sleep(60)"],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    assert f"pid {holder.pid}" in (tmp_path / LOCK_NAME).read_text()
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    result = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=2")
    assert result.returncode == 0, result.stderr
    assert f"pid {holder.pid} " not in (tmp_path / LOCK_NAME).read_text()


# --- settings ------------------------------------------------------------------------------------


def test_resuming_with_other_settings_is_refused_unless_extending(tmp_path: Path) -> None:
    assert run_button(f"hydra.run.dir={tmp_path}", "num_tasks=4").returncode == 0
    before = (tmp_path / "stats.json").read_text(), (tmp_path / "tasks.jsonl").read_text()
    refused = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=6", "seed=1", "composition=sequential")
    assert refused.returncode == 2
    line = one_line_error(refused.stderr, "button: error: run directory")
    assert "changed: seed, composition.strategies.parallel_then_sequential" in line and "runner.resume=extend" in line
    assert ((tmp_path / "stats.json").read_text(), (tmp_path / "tasks.jsonl").read_text()) == before
    assert yaml.safe_load((tmp_path / ".hydra" / "config.yaml").read_text())["seed"] == 0  # Hydra's copy untouched
    extended = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=9", "seed=1", "runner.resume=extend")
    assert extended.returncode == 0, extended.stderr
    settings = json.loads((tmp_path / "stats.json").read_text())["settings"]
    assert settings["seed"] == [0, 1] and settings["changed"] == ["seed"] and settings["num_tasks"] == 9


# --- read-only and full disks --------------------------------------------------------------------


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True).returncode:
        pytest.skip("mounting a small filesystem needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """A directory this process cannot write: a read-only mount as root, chmod otherwise."""
    if os.geteuid() == 0:
        with tmpfs(path, "1m"):
            subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
            yield path
    else:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)


def test_a_read_only_run_directory_is_one_line(tmp_path: Path) -> None:
    with read_only(tmp_path / "ro") as directory:
        for run_dir in (directory, directory / "new"):
            result = run_button(f"hydra.run.dir={run_dir}", "num_tasks=2")
            assert result.returncode == 5
            line = one_line_error(result.stderr, "button: error: cannot write")
            assert str(directory) in line


def limited_file_size(limit: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead

    return apply


def check_full_disk_run(run_dir: Path, completed: subprocess.CompletedProcess[str]) -> None:
    assert completed.returncode == 5, completed.stderr
    one_line_error(completed.stderr, "button: error: cannot write")
    for name in ("tasks.jsonl", "trajectories.jsonl"):
        data = (run_dir / name).read_bytes()
        assert data.endswith(b"\n") or not data  # no torn line left for the next run
    assert not (run_dir / ".export-staging").exists()


def test_a_file_size_limit_mid_run_is_one_line_and_the_run_resumes(tmp_path: Path) -> None:
    arguments = [sys.executable, "-m", "button", f"hydra.run.dir={tmp_path}", "num_tasks=120"]
    completed = subprocess.run(
        arguments, cwd=REPO, capture_output=True, text=True, timeout=240, preexec_fn=limited_file_size(60_000)
    )
    check_full_disk_run(tmp_path, completed)
    resumed = run_button(f"hydra.run.dir={tmp_path}", "num_tasks=120")
    assert resumed.returncode == 0, resumed.stderr
    check_complete(tmp_path, 120)


def test_a_full_filesystem_mid_run_is_one_line(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "160k") as run_dir:
        completed = subprocess.run(
            [sys.executable, "-m", "button", f"hydra.run.dir={run_dir}", "num_tasks=200"],
            cwd=REPO, capture_output=True, text=True, timeout=240,
        )
        check_full_disk_run(run_dir, completed)
        assert "No space left on device" in completed.stderr


# --- the response cache --------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(PipelineResponder()) as running:
        yield running


def llm_run(server: LoopbackChatServer, run_dir: Path, cache_dir: Path, num_tasks: int):  # type: ignore[no-untyped-def]
    return run_button(
        "model=openai", f"model.base_url={server.base_url}", "model.api_key_env=null",
        f"model.cache_dir={cache_dir}", f"num_tasks={num_tasks}", f"hydra.run.dir={run_dir}",
    )


def test_a_cache_that_cannot_be_opened_is_a_warning(server: LoopbackChatServer, tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    result = llm_run(server, tmp_path / "run", tmp_path / "not-a-directory" / "cache", 4)
    assert result.returncode == 0, result.stderr
    assert "response cache" in result.stdout and "goes on uncached" in result.stdout
    assert json.loads((tmp_path / "run" / "stats.json").read_text())["ending"]["kept_tasks"] == 4


def test_a_full_cache_disk_is_a_warning_and_the_run_goes_on(server: LoopbackChatServer, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "cache", "256k") as cache_dir:
        result = llm_run(server, tmp_path / "run", cache_dir, 30)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if "response cache" in line]
    assert len(warnings) == 1 and "cannot be used" in warnings[0] and "Traceback" not in result.stdout + result.stderr
    assert json.loads((tmp_path / "run" / "stats.json").read_text())["ending"]["kept_tasks"] == 30
