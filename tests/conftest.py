"""Shared fixtures: running the `button` CLI the way a user does, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_button(*arguments: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 240) -> CliResult:
    completed = subprocess.run(
        [sys.executable, "-m", "button", *arguments],
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def button_cli():
    return run_button


@pytest.fixture(scope="session")
def tight_offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An offline run whose tight turn limit rejects some conversations (both strategies); the
    tests that read a run's records and reports share it."""
    directory = tmp_path_factory.mktemp("tight") / "run"
    result = run_button("num_tasks=12", "environment.max_turns=3", f"hydra.run.dir={directory}")
    assert result.returncode == 0, result.stderr
    return directory
