"""The `button` command as a user meets it: runs, sweeps, resumes, and refuses bad input clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import read_jsonl, run_button
from environment.export.validate import check_export_file


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run")
    result = run_button(f"hydra.run.dir={run_dir}", "num_tasks=40")
    assert result.returncode == 0, result.stderr
    assert "converse" in result.stdout  # the closing stats table
    return run_dir


def test_offline_run_keeps_at_least_30_of_40(offline_run: Path) -> None:
    stats = json.loads((offline_run / "stats.json").read_text())
    assert stats["tasks"]["kept"] == 40
    assert stats["trajectories"]["total"] == 40
    assert stats["trajectories"]["kept"] >= 30
    assert stats["exports"] == {name: stats["trajectories"]["kept"] for name in ("button", "openai", "hf", "sharegpt")}


def test_offline_exports_pass_strict_reading(offline_run: Path) -> None:
    for name in ("button", "openai", "hf", "sharegpt"):
        report = check_export_file(offline_run / "export" / f"{name}.jsonl", name)
        assert report.records >= 30
        assert report.problems == []


def test_run_directory_records_have_the_contract_fields(offline_run: Path) -> None:
    task = read_jsonl(offline_run / "tasks.jsonl")[0]
    assert {"id", "text", "strategy", "atomic_tasks", "edges", "functions", "kept", "reject_reason"} <= task.keys()
    trajectory = read_jsonl(offline_run / "trajectories.jsonl")[0]
    assert {"id", "task_id", "messages", "termination", "checks", "kept", "reject_reason"} <= trajectory.keys()
    assert (offline_run / ".hydra" / "config.yaml").exists()


def test_rerun_in_place_resumes_without_duplicates(offline_run: Path) -> None:
    before = (offline_run / "trajectories.jsonl").read_text()
    result = run_button(f"hydra.run.dir={offline_run}", "num_tasks=40")
    assert result.returncode == 0, result.stderr
    assert (offline_run / "trajectories.jsonl").read_text() == before
    stats = json.loads((offline_run / "stats.json").read_text())
    assert stats["new_trajectories"] == 0


def test_resume_after_a_torn_write_finishes_the_run(tmp_path: Path) -> None:
    assert run_button(f"hydra.run.dir={tmp_path}", "num_tasks=6").returncode == 0
    lines = (tmp_path / "trajectories.jsonl").read_text().splitlines(keepends=True)
    # Simulate a kill: keep two whole records and half of the third.
    (tmp_path / "trajectories.jsonl").write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])
    assert run_button(f"hydra.run.dir={tmp_path}", "num_tasks=6").returncode == 0
    records = read_jsonl(tmp_path / "trajectories.jsonl")
    assert sorted(r["task_id"] for r in records) == sorted({r["task_id"] for r in records})
    assert len(records) == 6


def _turn_call_counts(run_dir: Path) -> list[int]:
    return [len(m["tool_calls"]) for r in read_jsonl(run_dir / "trajectories.jsonl") for m in r["messages"] if m["role"] == "assistant"]


@pytest.mark.parametrize("parallel", [True, False])
def test_parallel_calls_switch(tmp_path: Path, parallel: bool) -> None:
    result = run_button(
        f"hydra.run.dir={tmp_path}", "num_tasks=12", "composition=parallel_then_sequential",
        f"environment.parallel_calls={str(parallel).lower()}",
    )
    assert result.returncode == 0, result.stderr
    counts = _turn_call_counts(tmp_path)
    assert (max(counts) >= 2) is parallel


def test_composition_strategies_shape_the_tasks(tmp_path: Path) -> None:
    assert run_button(f"hydra.run.dir={tmp_path / 'seq'}", "num_tasks=8", "composition=sequential").returncode == 0
    for task in read_jsonl(tmp_path / "seq" / "tasks.jsonl"):
        assert task["strategy"] == "sequential"
        assert task["edges"] == [[i, i + 1] for i in range(len(task["atomic_tasks"]) - 1)]
    assert run_button(f"hydra.run.dir={tmp_path / 'pts'}", "num_tasks=8", "composition=parallel_then_sequential").returncode == 0
    for task in read_jsonl(tmp_path / "pts" / "tasks.jsonl"):
        assert task["strategy"] == "parallel_then_sequential"
        assert sorted(map(tuple, task["edges"])) == [(0, 2), (1, 2)]


def test_multirun_sweeps_strategies(tmp_path: Path) -> None:
    result = run_button("-m", "composition=sequential,parallel_then_sequential", "num_tasks=3", f"hydra.sweep.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    strategies = {read_jsonl(tmp_path / str(job) / "tasks.jsonl")[0]["strategy"] for job in (0, 1)}
    assert strategies == {"sequential", "parallel_then_sequential"}


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ("model=gpt5", ["model=gpt5", "offline", "openai"]),
        ("composition=zigzag", ["composition=zigzag", "sequential", "parallel_then_sequential", "mixed"]),
        ("num_tasks=-3", ["num_tasks", "-3"]),
        ("environment.protocol=xml", ["environment.protocol", "xml", "native", "tags"]),
        ("+composition.strategies.zigzag=1", ["zigzag", "sequential", "parallel_then_sequential"]),
        ("composition.strategies.zigzag=1", ["composition.strategies", "zigzag"]),
        ("composition.strategies.sequential=-1", ["sequential", "-1"]),
        ("environment.max_turns=many", ["environment.max_turns", "many"]),
        ("composition.source.library_dir=/nonexistent/library", ["/nonexistent/library/types.json", "cannot read"]),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, override: str, names: list[str]) -> None:
    result = run_button(f"hydra.run.dir={tmp_path / 'run'}", override)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for name in names:
        assert name in lines[0]
    assert not (tmp_path / "run" / "trajectories.jsonl").exists()
