"""Whole runs of `button` against a misbehaving loopback endpoint: exit 0, every rejection
explained, retries and cost in stats.json; the cache makes a second run directory cheap."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from agents.endpoint_limits import EndpointLimits
from button.api import compose_config
from button.settings import validate_settings
from composition.errors import ConfigurationError
from fake_endpoint import LoopbackChatServer
from conftest import read_jsonl, run_button
from scale_responders import Faults, PipelineResponder


@pytest.fixture(scope="module")
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(PipelineResponder()) as running:
        yield running


def llm_run(server: LoopbackChatServer, run_dir: Path, cache: Path, *extra: str) -> dict[str, Any]:
    result = run_button(
        "model=openai",
        f"model.base_url={server.base_url}",
        "model.api_key_env=null",
        "agents/tool=schema",
        f"model.cache_dir={cache}",
        "runner.retry_initial_delay=0.01",
        f"hydra.run.dir={run_dir}",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return json.loads((run_dir / "stats.json").read_text())


def test_faulty_endpoint_run_finishes_with_every_fault_retried_or_explained(server: LoopbackChatServer, tmp_path: Path) -> None:
    server.responder = faults = Faults(PipelineResponder(), slow_every=23, slow=0.4)
    stats = llm_run(
        server, tmp_path / "run", tmp_path / "cache",
        "num_tasks=8", "model.timeout=0.25", "composition.source.stages.filter.model.name=local-judge",
        "composition.source.compositions_per_task=1",  # one task per atomic task: enough atomic requests to meet every fault
    )
    assert set(faults.injected) == {"429", "500", "garbage", "slow", "truncated", "broken"}
    main, judge = stats["models"]["gpt-4o-mini"], stats["models"]["local-judge"]
    retried = {kind for usage in (main, judge) for kind in usage["retries_by_kind"]}
    assert retried == {"429", "500", "malformed", "timeout"}
    assert main["retries"] == sum(main["retries_by_kind"].values()) > 0
    # faults that outlast the retries, and cut-off answers, are rejections with a reason
    assert stats["stages"]["atomic_tasks"]["rejected"]["truncated"] > 0
    assert stats["stages"]["filter"]["rejected"]["endpoint_error"] == judge["failed"] > 0
    tasks = read_jsonl(tmp_path / "run" / "tasks.jsonl")
    trajectories = read_jsonl(tmp_path / "run" / "trajectories.jsonl")
    assert sum(task["kept"] for task in tasks) == 8 == len(trajectories)
    assert all(task["reject_reason"] for task in tasks if not task["kept"])
    assert all(t["reject_reason"] for t in trajectories if not t["kept"])
    assert all(task["functions"] for task in tasks if task["kept"])
    # cost: priced from the table for a listed model, null (not an error) for an unlisted one
    expected = round((main["prompt_tokens"] * 0.15 + main["completion_tokens"] * 0.60) / 1e6, 6)
    assert main["cost"] == expected > 0 and judge["cost"] is None
    assert stats["cost"] == {"currency": "USD", "total": expected, "unpriced_models": ["local-judge"]}
    for name in ("extract_scenarios", "atomic_tasks", "functions", "converse"):
        assert 0 < stats["stages"][name]["wall_seconds"] <= stats["timings_s"]["wall"]


def test_a_new_run_directory_with_the_same_config_is_served_by_the_cache(server: LoopbackChatServer, tmp_path: Path) -> None:
    server.responder = PipelineResponder()
    first = llm_run(server, tmp_path / "a", tmp_path / "cache", "num_tasks=6")
    sent = len(server.requests)
    second = llm_run(server, tmp_path / "b", tmp_path / "cache", "num_tasks=6")
    new = len(server.requests) - sent
    # only requests the first run abandoned in flight (it had enough tasks) can be new
    assert new <= first["models"]["gpt-4o-mini"]["cancelled"]
    assert second["models"]["gpt-4o-mini"]["cache_hits"] > 10 * max(new, 1)
    ids = lambda run: [t["id"] for t in read_jsonl(tmp_path / run / "tasks.jsonl") if t["kept"]]  # noqa: E731
    assert ids("a") == ids("b")
    assert first["cost"]["total"] > second["cost"]["total"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("runner.conversations=0", "runner.conversations=0: Input should be greater than or equal to 1"),
        ("runner.conversation_timeout=-1", "runner.conversation_timeout=-1: Input should be greater than 0"),
        ("runner.requests_per_minute=lots", "runner.requests_per_minute='lots'"),
        ("num_tasks=true", "num_tasks=True: Input should be a valid integer"),  # a yes is not a count of 1
        ("pricing.per_million_tokens.gpt-4o.prompt=-1", "pricing.per_million_tokens.gpt-4o.prompt=-1"),
    ],
)
def test_bad_runner_and_price_values_are_one_line_errors(override: str, message: str, tmp_path: Path) -> None:
    result = run_button("num_tasks=2", override, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "tasks.jsonl").exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("runner.concurrency=0", "runner.concurrency=0"),
        ("runner.conversations=0", "runner.conversations=0"),
        ("runner.conversations=2.5", "runner.conversations=2.5"),
        ("runner.conversations=true", "runner.conversations=True"),  # a yes is not a count of 1
        ("runner.concurrency=true", "runner.concurrency=True"),
        ("runner.retry_max_delay=false", "runner.retry_max_delay=False"),
        ("runner.conversation_timeout=0", "runner.conversation_timeout=0"),
        ("runner.requests_per_minute=lots", "runner.requests_per_minute='lots'"),
        ("runner.tokens_per_minute=-5", "runner.tokens_per_minute=-5"),
        ("runner.retry_initial_delay=-1", "runner.retry_initial_delay=-1"),
        ("runner.replica_failures=0", "runner.replica_failures=0"),
        ("runner.replica_cooldown=0", "runner.replica_cooldown=0"),
        ("runner.adaptive=sometimes", "runner.adaptive='sometimes'"),
        ("runner.resume=append", "runner.resume='append'"),
    ],
)
def test_every_runner_key_is_validated_once_before_anything_runs(override: str, field: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        validate_settings(OmegaConf.to_container(compose_config([override]), resolve=True))
    assert str(raised.value).startswith(field) and "\n" not in str(raised.value)


def test_runner_settings_reach_the_runner_and_the_model_clients_validated() -> None:
    runner = validate_settings(OmegaConf.to_container(compose_config(["runner.concurrency=3"]), resolve=True)).runner
    assert isinstance(runner, EndpointLimits) and runner.concurrency == 3
    assert runner.conversations_in_flight == 12  # null: 4 x concurrency
    chosen = ["runner.conversations=5", "runner.conversation_timeout=2.5"]
    runner = validate_settings(OmegaConf.to_container(compose_config(chosen), resolve=True)).runner
    assert (runner.conversations_in_flight, runner.conversation_timeout) == (5, 2.5)


def test_progress_bars_per_stage_only_when_asked_or_on_a_terminal(tmp_path: Path) -> None:
    shown = run_button("num_tasks=30", "runner.progress=true", f"hydra.run.dir={tmp_path / 'shown'}")
    assert shown.returncode == 0, shown.stderr
    final = {line.split(":")[0]: line for line in shown.stderr.replace("\r", "\n").splitlines() if ":" in line}
    assert "kept=30" in final["compose"] and "kept=30" in final["converse"]
    quiet = run_button("num_tasks=30", f"hydra.run.dir={tmp_path / 'quiet'}")  # stderr is a pipe, not a terminal
    assert quiet.returncode == 0 and quiet.stderr == ""
