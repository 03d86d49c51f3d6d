"""`button show`: the conversations a user asks for, readable, with the filters doing what they say."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import read_jsonl, run_button

HEADER = re.compile(r"^(traj-[0-9a-f]+)  task (task-[0-9a-f]+)  (\S+)$", re.MULTILINE)


@pytest.fixture
def run_dir(tight_offline_run: Path) -> Path:
    return tight_offline_run


def _shown(run_dir: Path, *options: str) -> tuple[list[str], str]:
    result = run_button("show", str(run_dir), *options)
    assert result.returncode == 0, result.stderr
    return [match.group(1) for match in HEADER.finditer(result.stdout)], result.stdout


def _records(run_dir: Path) -> dict[str, dict]:
    return {record["id"]: record for record in read_jsonl(run_dir / "trajectories.jsonl")}


def test_default_prints_three_readable_conversations(run_dir: Path) -> None:
    ids, text = _shown(run_dir)
    records = _records(run_dir)
    assert ids == list(records)[:3]
    assert "\033[" not in text  # not a terminal: plain text
    first = records[ids[0]]
    call = next(call for message in first["messages"] for call in message["tool_calls"])
    assert f"-> {call['name']}(" in text and str(next(iter(call["arguments"].values()))) in text
    assert "[user]" in text and "[tool]" in text and "<- " in text
    final = next((m for m in first["messages"] if m["final"]), None)
    if final is not None:
        assert "[assistant (final)]" in text and final["content"] in text


def test_rejected_and_reason_show_why_and_the_failing_check(run_dir: Path) -> None:
    records = _records(run_dir)
    rejected = [r for r in records.values() if not r["kept"]]
    assert rejected, "the fixture run should reject some conversations"
    ids, text = _shown(run_dir, "--rejected", "--n", "0")
    assert ids == [r["id"] for r in rejected]
    reason = rejected[0]["reject_reason"]
    failed = next(check for check in rejected[0]["checks"] if not check["passed"])
    assert f"rejected: {reason}" in text
    assert f"failed check {failed['name']} ({failed['reason']})" in text
    ids, _ = _shown(run_dir, "--reason", reason, "--n", "0")
    assert ids == [r["id"] for r in rejected if r["reject_reason"] == reason]


def test_strategy_id_and_n_filters(run_dir: Path) -> None:
    records = _records(run_dir)
    ids, _ = _shown(run_dir, "--strategy", "sequential", "--n", "0")
    assert ids and ids == [i for i, r in records.items() if r["strategy"] == "sequential"]
    target = list(records)[5]
    ids, _ = _shown(run_dir, "--id", target[:12])
    assert ids == [target]
    ids, _ = _shown(run_dir, "--id", records[target]["task_id"])  # a task id finds its conversation
    assert ids == [target]
    ids, _ = _shown(run_dir, "--n", "0")
    assert len(ids) == len(records)
    ids, _ = _shown(run_dir, "--n", "1", "--strategy", "parallel_then_sequential")
    assert len(ids) == 1 and records[ids[0]]["strategy"] == "parallel_then_sequential"


def test_colour_when_asked(run_dir: Path) -> None:
    _, text = _shown(run_dir, "--n", "1", "--color", "always")
    assert "\033[1;36m[user]\033[0m" in text


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["--reason", "no_such_reason"], ["--reason no_such_reason", "max_turns"]),
        (["--strategy", "zigzag"], ["--strategy zigzag", "sequential"]),
        (["--id", "traj-ffffffffffff"], ["--id traj-ffffffffffff"]),
    ],
)
def test_unknown_filter_value_is_one_line_naming_what_exists(run_dir: Path, options: list[str], names: list[str]) -> None:
    result = run_button("show", str(run_dir), *options)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert all(name in result.stderr for name in names)


def test_bad_run_directory_is_one_line(tmp_path: Path) -> None:
    result = run_button("show", str(tmp_path / "missing"))
    assert result.returncode == 2 and result.stderr.strip() == f"button show: error: {tmp_path / 'missing'}: no such run directory"
    (tmp_path / "trajectories.jsonl").write_text('{"id": "traj-1"}\n{not json\n')
    result = run_button("show", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"button show: error: {tmp_path / 'trajectories.jsonl'}:1: field ")
    assert "Traceback" not in result.stderr


def _on_a_terminal(run_dir: Path, **env: str) -> str:
    """stdout of `button show` when stdout is a terminal (a pseudo-terminal)."""
    base = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "button", "show", str(run_dir), "--n", "1"],
        stdout=follower, stderr=subprocess.DEVNULL, env={**base, "TERM": "xterm", **env},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_unless_no_color(run_dir: Path) -> None:
    assert "\033[1;36m[user]\033[0m" in _on_a_terminal(run_dir)
    assert "\033[" not in _on_a_terminal(run_dir, NO_COLOR="1")
