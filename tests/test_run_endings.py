"""LLM runs end honestly: growth reaches num_tasks from the shipped seeds, a shortfall is one
warning naming its causes, and a run that keeps nothing exits 3 with one line."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_endpoint import LoopbackChatServer
from conftest import read_jsonl, run_button
from llm_responders import StageResponder
from scale_responders import PipelineResponder


@pytest.fixture
def responder() -> PipelineResponder:
    return PipelineResponder(stages=StageResponder())


@pytest.fixture
def server(responder: PipelineResponder) -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(responder) as running:
        yield running


def llm_arguments(base_url: str, run_dir: Path, *extra: str) -> list[str]:
    return [
        "model=openai",
        f"model.base_url={base_url}",
        "model.api_key_env=null",
        "model.cache_dir=null",
        "runner.retry_initial_delay=0.01",
        f"hydra.run.dir={run_dir}",
        *extra,
    ]


def stats(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "stats.json").read_text())


def test_200_tasks_grow_from_the_ten_shipped_seeds(server: LoopbackChatServer, tmp_path: Path) -> None:
    """Every bottom-up stage asks the model; the user and tool are offline to keep the test quick."""
    run_dir = tmp_path / "run"
    result = run_button(*llm_arguments(server.base_url, run_dir, "num_tasks=200", "agents/user=scripted", "agents/tool=schema"))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    tasks = read_jsonl(run_dir / "tasks.jsonl")
    assert sum(task["kept"] for task in tasks) == 200
    assert len({task["text"] for task in tasks}) == len(tasks)  # deduplicated
    assert len(read_jsonl(run_dir / "trajectories.jsonl")) == 200
    summary = stats(run_dir)
    assert summary["stages"]["extract_scenarios"]["made"] == 10
    assert summary["stages"]["expand_scenarios"]["kept"] > 0  # grown beyond the seeds' own scenarios
    assert summary["ending"]["shortfall"] == 0
    requests = summary["models"]["gpt-4o-mini"]["requests"]
    conversation_requests = len([r for r in server.requests if r.body.get("tools")])
    per_task = (requests - conversation_requests) / 200
    print(f"bottom-up requests per kept task: {per_task:.2f}; all requests: {requests}")
    assert per_task < 5  # the source does not run far ahead of what the run needs


def test_a_shortfall_is_one_warning_naming_the_exhausted_source(
    server: LoopbackChatServer, responder: PipelineResponder, tmp_path: Path
) -> None:
    """Expansion only repeats itself: 10 extracted + 2 new scenarios, 2 tasks each, at most 24."""
    responder.stages.answers["NewScenarios"] = lambda body: {"scenarios": ["A cook needs a recipe for Lisbon.", "A pilot checks the Oslo weather."]}
    run_dir = tmp_path / "run"
    result = run_button(*llm_arguments(server.base_url, run_dir, "num_tasks=40", "composition.source.scenarios_per_seed=2"))
    assert result.returncode == 0, result.stderr
    warning = result.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("button: warning: kept "), result.stderr
    assert "of num_tasks=40" in warning[0] and "stopped giving new scenarios" in warning[0]
    assert "expand_scenarios:duplicate" in warning[0]
    ending = stats(run_dir)["ending"]
    assert ending["source"] == "exhausted" and 0 < ending["kept_tasks"] <= 24 and ending["shortfall"] == 40 - ending["kept_tasks"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("base_url", ["notaurl", f"http://127.0.0.1:{closed_port()}/v1"])
def test_an_unreachable_endpoint_exits_3_with_one_line(tmp_path: Path, base_url: str) -> None:
    run_dir = tmp_path / "run"
    result = run_button(*llm_arguments(base_url, run_dir, "num_tasks=5", "model.max_retries=0"))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr + result.stdout
    assert lines[0].startswith("button: error: no trajectory kept") and "failed at the endpoint" in lines[0]
    assert "stopped giving new scenarios" not in lines[0] and "endpoint errors, not to a lack of seed material" in lines[0]
    ending = stats(run_dir)["ending"]
    assert ending["kept_trajectories"] == 0 and ending["endpoint_errors"]["failed_requests"] == 10
    assert ending["source"] == "endpoint_failed"  # the seeds were never used up


def test_every_answer_rejected_exits_3_naming_the_rejections(
    server: LoopbackChatServer, responder: PipelineResponder, tmp_path: Path
) -> None:
    responder.stages.answers["Verdict"] = lambda body: {"solves": False, "reason": "The sub-tasks miss the point."}
    run_dir = tmp_path / "run"
    result = run_button(*llm_arguments(server.base_url, run_dir, "num_tasks=5", "composition.source.patience=4"))
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "filter:" in lines[0], result.stderr
    ending = stats(run_dir)["ending"]
    assert ending["source"] == "no_new_tasks" and ending["kept_tasks"] == 0
    assert next(iter(ending["rejections"])).startswith("filter:")
