"""The text a run ends with: each stage once, the run directory, and the commands to look at it."""

from __future__ import annotations

from pathlib import Path

from conftest import run_button


def _table_rows(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("stage "))
    end = next(i for i, line in enumerate(lines) if line.startswith("run directory:"))
    footer = ("whole run directory", "quality:")
    return [line.split()[0] for line in lines[start + 2 : end] if not line.startswith(footer)]


def test_a_run_lists_each_stage_once_and_names_show_and_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_button("num_tasks=6", f"hydra.run.dir={run_dir}")
    assert result.returncode == 0, result.stderr
    rows = _table_rows(result.stdout)
    assert rows == ["compose", "converse", "export"]
    assert "quality: grounded calls" in result.stdout
    assert f"button show {run_dir} --n 3" in result.stdout
    assert f"button report {run_dir}" in result.stdout
    log = (run_dir / "app.log").read_text()
    assert "run finished" in log and "converse" in log  # the closing table is kept in the log

    again = run_button("num_tasks=6", f"hydra.run.dir={run_dir}")
    assert again.returncode == 0, again.stderr
    assert _table_rows(again.stdout) == ["export"]  # nothing was left to compose or converse
    assert "whole run directory: " in again.stdout and "6 trajectories (6 kept)" in again.stdout
