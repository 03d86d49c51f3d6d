"""SIGKILL a real `python -m button` mid-run, run it again in place: nothing lost, nothing twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_endpoint import LoopbackChatServer
from conftest import REPO, read_jsonl, run_button
from scale_responders import PipelineResponder


def lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def kill_after(arguments: list[str], path: Path, records: int, timeout: float = 120) -> subprocess.Popen[bytes]:
    """Start button, SIGKILL it once ``path`` holds ``records`` whole records."""
    process = subprocess.Popen(
        [sys.executable, "-m", "button", *arguments], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    while lines(path) < records and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return process


def check_complete(run_dir: Path, num_tasks: int) -> list[str]:
    """Ids unique, every kept task has exactly one trajectory, nothing else has one; the kept ids."""
    tasks = read_jsonl(run_dir / "tasks.jsonl")
    trajectories = read_jsonl(run_dir / "trajectories.jsonl")
    assert not [i for i, n in Counter(t["id"] for t in tasks).items() if n > 1]
    assert not [i for i, n in Counter(t["id"] for t in trajectories).items() if n > 1]
    per_task = Counter(t["task_id"] for t in trajectories)
    kept = [t["id"] for t in tasks if t["kept"]]
    assert len(kept) == num_tasks
    assert set(per_task) == set(kept) and set(per_task.values()) == {1}
    stats = json.loads((run_dir / "stats.json").read_text())
    assert stats["trajectories"]["total"] == num_tasks
    assert set(stats["exports"].values()) == {stats["trajectories"]["kept"]}  # every format holds every kept one
    return kept


def test_offline_run_killed_mid_way_resumes_to_the_same_result(tmp_path: Path) -> None:
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    arguments = ["num_tasks=400", "runner.conversations=4"]
    kill_after([*arguments, f"hydra.run.dir={killed}"], killed / "trajectories.jsonl", 25)
    written = lines(killed / "trajectories.jsonl")
    assert 25 <= written < 400 and not (killed / "stats.json").exists()
    with (killed / "trajectories.jsonl").open("ab") as handle:
        handle.write(b'{"id": "traj-torn-by-the-kill", "task')  # what a kill mid-write leaves
    resumed = run_button(*arguments, f"hydra.run.dir={killed}")
    assert resumed.returncode == 0, resumed.stderr
    stats = json.loads((killed / "stats.json").read_text())
    assert stats["new_trajectories"] == 400 - written
    reference = run_button(*arguments, f"hydra.run.dir={clean}")
    assert reference.returncode == 0, reference.stderr
    assert sorted(check_complete(killed, 400)) == sorted(check_complete(clean, 400))
    clean_trajectories = {t["id"]: t for t in read_jsonl(clean / "trajectories.jsonl")}
    assert {t["id"]: t for t in read_jsonl(killed / "trajectories.jsonl")} == clean_trajectories


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(PipelineResponder(latency=0.02)) as running:
        yield running


def test_llm_run_killed_mid_way_resumes_and_a_finished_rerun_is_free(server: LoopbackChatServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    arguments = [
        "model=openai",
        f"model.base_url={server.base_url}",
        "model.api_key_env=null",
        "agents/tool=schema",
        f"model.cache_dir={tmp_path / 'cache'}",
        "num_tasks=16",
        "runner.concurrency=8",
        f"hydra.run.dir={run_dir}",
    ]
    kill_after(arguments, run_dir / "trajectories.jsonl", 3)
    assert lines(run_dir / "trajectories.jsonl") < 16
    before_resume = len(server.requests)
    resumed = run_button(*arguments)
    assert resumed.returncode == 0, resumed.stderr
    kept = check_complete(run_dir, 16)
    models = json.loads((run_dir / "stats.json").read_text())["models"]["gpt-4o-mini"]
    assert models["cache_hits"] > 0  # the bottom-up work of the killed run came back for free
    assert models["requests"] == len(server.requests) - before_resume - models["cancelled"]
    finished = len(server.requests)
    again = run_button(*arguments)
    assert again.returncode == 0, again.stderr
    assert len(server.requests) == finished  # not one request, not even to the cache
    assert check_complete(run_dir, 16) == kept
    stats = json.loads((run_dir / "stats.json").read_text())
    usage = stats["models"]["gpt-4o-mini"]
    assert stats["new_trajectories"] == 0 and usage["requests"] == usage["cache_hits"] == 0
