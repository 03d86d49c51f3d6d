"""`button --help` says what the app does, lists its groups and subcommands, and gives examples."""

from __future__ import annotations

from button.cli import group_options
from conftest import run_button


def test_help_describes_the_app_its_groups_and_subcommands() -> None:
    result = run_button("--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "is powered by Hydra" not in text  # not Hydra's generic page
    assert "multi-turn function-calling training data" in text
    for group in ("model", "composition", "agents/user", "environment", "runner", "export"):
        assert f"{group}: {', '.join(group_options(group))}" in text
    for command in ("button show RUN_DIR", "button report RUN_DIR", "button -m ", "button --cfg job"):
        assert command in text


def test_subcommand_help_lists_its_options() -> None:
    for name, options in (("show", ["--n", "--id", "--rejected", "--reason", "--strategy"]), ("report", ["--out", "--samples"])):
        result = run_button(name, "--help")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"usage: button {name}")
        assert all(option in result.stdout for option in options)
