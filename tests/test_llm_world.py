"""LLM-played user and assistant over world-backed tools: every kept answer is checked true.

``model=openai composition/source=library agents/tool=world``: tasks come from the typed
library (with gold plans), the tools answer from the grounded world, and the user and the
assistant are language models, here loopback models (tests/world_responders.py) that see only
what the product sends them. ``correct_answer`` then compares each final answer with the
world's truth; a wrong number is rejected as wrong_answer and an invented argument as
ungrounded_argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from composition.world import load_world
from composition.world.world import COLLECTIONS
from conftest import read_jsonl, run_button
from fake_endpoint import LoopbackChatServer
from world_responders import WorldAssistant, world_roles

ALL_CHECKS = [
    "known_functions", "valid_arguments", "valid_results", "answered_calls", "covered_tasks", "data_flow",
    "grounded_arguments", "final_answer", "grounded_answer", "correct_answer", "turn_limit", "parallel_policy",
    "no_plan_leak",
]


def run(
    assistant: WorldAssistant, run_dir: Path, *overrides: str, status: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A sequential-chain run with LLM roles over the world; (tasks, trajectories). ``status``:
    the exit code expected (3: no trajectory kept)."""
    with LoopbackChatServer(world_roles(assistant)) as server:
        result = run_button(
            "model=openai", "composition/source=library", "agents/tool=world", "composition=sequential",
            f"model.base_url={server.base_url}", "model.name=loopback-llm", "model.cache_dir=null",
            "num_tasks=8", f"hydra.run.dir={run_dir}", *overrides,
            env={"OPENAI_API_KEY": "sk-loopback"},
        )
    assert result.returncode == status, result.stderr
    return read_jsonl(run_dir / "tasks.jsonl"), read_jsonl(run_dir / "trajectories.jsonl")


def check(trajectory: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in trajectory["checks"] if entry["name"] == name)


@pytest.mark.parametrize("protocol", ["native", "tags"])
def test_kept_answers_are_checked_against_the_world(tmp_path: Path, protocol: str) -> None:
    tasks, trajectories = run(WorldAssistant(), tmp_path / "run", f"environment.protocol={protocol}")
    kept = [t for t in trajectories if t["kept"]]
    assert len(trajectories) == 8
    assert len(kept) >= 5, [(t["reject_reason"], t["termination_detail"]) for t in trajectories]
    for trajectory in kept:
        truth = check(trajectory, "correct_answer")
        assert truth["passed"] and truth["detail"] == ""  # a real comparison: not "no world" nor "no gold plan"
    by_id = {task["id"]: task for task in tasks}
    for trajectory in trajectories:
        assert check(trajectory, "no_plan_leak")["passed"]
        opening = trajectory["messages"][0]
        assert opening["role"] == "user"
        literals = [v for a in by_id[trajectory["task_id"]]["atomic_tasks"] for v in a["step"]["arguments"].values()]
        assert literals and all(str(value) in opening["content"] for value in literals)  # the user says the values


def test_a_wrong_number_is_rejected_as_wrong_answer(tmp_path: Path) -> None:
    """With grounded_answer off, the world's truth alone rejects every answer that states a
    number off by 7 (or only a number, where the answer is a name)."""
    checks = [name for name in ALL_CHECKS if name != "grounded_answer"]
    _, trajectories = run(WorldAssistant(wrong_number=True), tmp_path / "run", f"environment.checks=[{','.join(checks)}]", status=3)
    answered = [t for t in trajectories if t["termination"] == "final_answer"]
    assert len(answered) >= 5
    for trajectory in answered:
        assert trajectory["reject_reason"] == "wrong_answer", trajectory["checks"]
        assert "(the world's truth)" in check(trajectory, "correct_answer")["detail"]


def similar_entity(value: str) -> str | None:
    """Another entity of the same kind the world knows: what a model might remember instead."""
    world = load_world()
    for kind in COLLECTIONS:
        names = world.collection(kind)
        if value in names:
            return next(name for name in names if name != value)
    return None


def test_an_invented_argument_is_rejected_as_ungrounded(tmp_path: Path) -> None:
    """After the plan's calls the assistant repeats its first call for an entity nobody named;
    the world answers it, so only grounded_arguments can tell."""
    tasks, trajectories = run(WorldAssistant(recall=similar_entity), tmp_path / "run", status=3)
    steps = {task["id"]: len(task["atomic_tasks"]) for task in tasks}
    extra = [t for t in trajectories if len(_calls(t)) > steps[t["task_id"]] and not _errors(t)]
    assert len(extra) >= 4, [(t["reject_reason"], t["termination_detail"]) for t in trajectories]
    for trajectory in extra:
        assert trajectory["reject_reason"] == "ungrounded_argument", trajectory["checks"]


def _calls(trajectory: dict[str, Any]) -> list[dict[str, Any]]:
    return [call for message in trajectory["messages"] for call in message.get("tool_calls") or []]


def _errors(trajectory: dict[str, Any]) -> list[str]:
    return [result["error"] for message in trajectory["messages"] for result in message.get("tool_results") or [] if result.get("error")]
