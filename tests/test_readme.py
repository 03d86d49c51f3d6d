"""The README's quickstart and CI run the same commands, so CI proves what the README promises."""

from __future__ import annotations

import re

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
