"""The README's quickstart and CI run the same commands, so CI proves what the README promises."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def _readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```bash\n(.*?)```", quickstart, re.DOTALL)
    assert block is not None
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_two_commands_that_ci_runs_verbatim() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    ci_lines = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    for command in commands:
        assert command in ci_lines


def test_quickstart_runs_offline_then_tests() -> None:
    install_and_run, test = _readme_commands()
    assert "pip install" in install_and_run and "button" in install_and_run
    assert "pytest" in test


#: README commands that need what a test has not: an API key and an endpoint, an install, the
#: test suite itself, or minutes of benchmarking.
NOT_OFFLINE = ("model=openai", "OPENAI_API_KEY", "pip install", "pytest", "benchmarks")


def _commands_after_quickstart() -> list[str]:
    readme = (REPO / "README.md").read_text()
    after = readme.split("## Quickstart", 1)[1].split("```", 2)[2]  # past the quickstart block
    lines = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", after, re.DOTALL | re.MULTILINE):
        lines += [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [line for line in lines if not any(marker in line for marker in NOT_OFFLINE)]


def _fresh_shell_env() -> dict[str, str]:
    """The environment of a new terminal: no virtual environment active, its bin not on PATH."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", os.defpath).split(os.pathsep) if not entry.startswith(sys.prefix)
    )
    return env


def test_offline_readme_commands_work_pasted_after_the_quickstart(tmp_path: Path) -> None:
    """Each offline command after the quickstart, in a fresh shell, in a checkout where the
    quickstart ran: the same `.venv` and `examples/`, its run directory `outputs/quickstart`."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("the README's commands use the virtual environment the quickstart makes")
    (tmp_path / ".venv").symlink_to(sys.prefix)
    (tmp_path / "examples").symlink_to(REPO / "examples")
    quickstart_run = _readme_commands()[0].split("&&")[-1].strip()
    commands = [quickstart_run, *_commands_after_quickstart()]
    assert any(" show " in command for command in commands) and any(" report " in command for command in commands)
    env = _fresh_shell_env()
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}\n{done.stderr[-2000:]}"
    assert (tmp_path / "outputs" / "quickstart" / "report.html").exists()
    assert (tmp_path / "multirun" / "strategies" / "report.html").exists()
