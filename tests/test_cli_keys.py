"""A key typed on the command line is refused before Hydra saves anything, and never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_button

KEY = "sk-proj-cmdline0123456789abcdefXYZ"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        (f"+model.api_key={KEY}", "model.api_key"),
        (f"model.api_key={KEY}", "model.api_key"),
        (f"+composition.source.stages.filter.model.api_key={KEY}", "composition.source.stages.filter.model.api_key"),
        (f"model.api_key_env={KEY}", "model.api_key_env"),
        ("model.api_key_env=sk_live_0123456789abcdefghij", "model.api_key_env"),
        (f"model.name={KEY}", "model.name"),
    ],
)
def test_a_key_on_the_command_line_is_refused_without_echo(tmp_path: Path, override: str, field: str) -> None:
    run_dir = tmp_path / "run"
    result = run_button("model=openai", "model.base_url=http://127.0.0.1:9/v1", f"hydra.run.dir={run_dir}", override)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in result.stderr
    secret = override.split("=", 1)[1]
    assert secret not in result.stdout + result.stderr
    assert not run_dir.exists()  # nothing under .hydra/ (or anywhere) was written


def test_a_variable_name_in_api_key_env_is_accepted(tmp_path: Path) -> None:
    """The check refuses keys, not the ordinary way of naming the key's variable."""
    result = run_button("model=openai", "model.api_key_env=MY_ENDPOINT_KEY", "--cfg", "job")
    assert result.returncode == 0, result.stderr
    assert "MY_ENDPOINT_KEY" in result.stdout
