"""`button model=openai` end to end against an OpenAI-compatible server on 127.0.0.1.

Every request goes through the real AutoGen and openai clients: the bottom-up stages, the LLM
user, the LLM assistant (both call protocols) and the LLM tool simulator. The run must keep
trajectories whose exports pass the strict readers, explain every rejection, ask for
structured outputs, and never write the API key anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_endpoint import LoopbackChatServer
from composition.models import FunctionSpec
from conftest import read_jsonl, run_button
from environment.export.validate import check_export_file
from scale_responders import PipelineResponder

SECRET = "sk-loopback-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(PipelineResponder()) as running:
        yield running


@pytest.mark.parametrize("protocol", ["native", "tags"])
def test_llm_run_keeps_valid_trajectories_and_hides_the_key(server: LoopbackChatServer, tmp_path: Path, protocol: str) -> None:
    run_dir = tmp_path / "run"
    result = run_button(
        "model=openai",
        f"model.base_url={server.base_url}",
        "model.name=loopback-llm",
        f"model.cache_dir={tmp_path / 'cache'}",
        f"environment.protocol={protocol}",
        "num_tasks=16",
        f"hydra.run.dir={run_dir}",
        env={"OPENAI_API_KEY": SECRET},
    )
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr

    tasks = read_jsonl(run_dir / "tasks.jsonl")
    kept_tasks = [task for task in tasks if task["kept"]]
    assert len(kept_tasks) == 16
    for task in kept_tasks:
        assert task["functions"]
        for spec in task["functions"]:
            FunctionSpec.model_validate(spec)  # the JSON-Schema meta-schema and name rules
    assert all(task["reject_reason"] for task in tasks if not task["kept"])

    trajectories = read_jsonl(run_dir / "trajectories.jsonl")
    assert len(trajectories) == 16
    assert all(t["reject_reason"] for t in trajectories if not t["kept"])
    kept = sum(t["kept"] for t in trajectories)
    assert kept >= 12
    for name in ("button", "openai", "sharegpt"):
        report = check_export_file(run_dir / "export" / f"{name}.jsonl", name)
        assert report.records == kept
        assert report.problems == []

    bodies = [request.body for request in server.requests]
    assert any((body.get("response_format") or {}).get("type") == "json_schema" for body in bodies)
    sent_keys = {value for request in server.requests for key, value in request.headers.items() if key.lower() == "authorization"}
    assert sent_keys == {f"Bearer {SECRET}"}  # the key reached the endpoint, and only there
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(
    ("overrides", "atomic_tasks", "edges"),
    [
        (["composition=parallel"], 2, []),
        (["composition=k_hop", "composition.hops=4"], 4, [[0, 1], [1, 2], [2, 3]]),
    ],
    ids=["parallel", "k_hop-4"],
)
def test_the_added_strategies_run_in_llm_mode(
    server: LoopbackChatServer, tmp_path: Path, overrides: list[str], atomic_tasks: int, edges: list[list[int]]
) -> None:
    run_dir = tmp_path / "run"
    result = run_button(
        "model=openai", f"model.base_url={server.base_url}", "model.name=loopback-llm", "model.cache_dir=null",
        "num_tasks=6", f"hydra.run.dir={run_dir}", *overrides, env={"OPENAI_API_KEY": SECRET},
    )
    assert result.returncode == 0, result.stderr
    strategy = overrides[0].split("=")[1]
    kept_tasks = [task for task in read_jsonl(run_dir / "tasks.jsonl") if task["kept"]]
    assert len(kept_tasks) == 6
    assert {(task["strategy"], len(task["atomic_tasks"]), str(task["edges"])) for task in kept_tasks} == {(strategy, atomic_tasks, str(edges))}
    kept = [t for t in read_jsonl(run_dir / "trajectories.jsonl") if t["kept"]]
    assert len(kept) >= 4
    for trajectory in kept:  # every sub-task was asked of a function
        called = {call["name"] for message in trajectory["messages"] for call in message.get("tool_calls") or []}
        assert len(called) == atomic_tasks
