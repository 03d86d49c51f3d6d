"""`button eval`: a model plays the assistant on held-out tasks and is scored against the gold plan.

The oracle must score 1 on every metric and an assistant that never calls must score 0 where
calls matter; an LLM assistant is evaluated over loopback HTTP through the real clients, and a
sweep over two models ends with one comparison table.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.llm.prompting import render_prompt
from button.api import run_eval_async, run_pipeline
from button.eval_table import main as eval_compare
from composition.gold import run_gold_plan
from composition.models import CompositionalTask
from composition.values import leaves
from composition.world import load_world
from conftest import read_jsonl, run_button
from environment.evaluation import SCORES, gold_waves, score_task
from environment.trajectory import Message, Trajectory
from fake_endpoint import LoopbackChatServer, Reply, chat_completion, request_role


def run_eval(run_dir: Path, *overrides: str) -> dict[str, Any]:
    return asyncio.run(run_eval_async(run_dir, overrides))


def test_the_oracle_scores_one_on_every_metric(tmp_path: Path) -> None:
    summary = run_eval(tmp_path / "oracle", "eval.size=12")
    assert summary["overall"]["tasks"] == 12
    assert {name: summary["overall"][name] for name in SCORES} == {name: 1.0 for name in SCORES}
    assert summary["truth"] == "world"
    records = read_jsonl(tmp_path / "oracle" / "eval.jsonl")
    assert len(records) == 12
    assert all(record["trajectory"]["task_id"] == record["task_id"] and record["failure"] is None for record in records)
    assert sum(summary["by_strategy"][name]["tasks"] for name in summary["by_strategy"]) == 12
    assert json.loads((tmp_path / "oracle" / "eval.json").read_text()) == summary


def test_an_assistant_that_never_calls_scores_zero_where_calls_matter(tmp_path: Path) -> None:
    summary = run_eval(tmp_path / "weak", "eval.size=12", "agents/assistant=no_calls")
    overall = summary["overall"]
    for name in ("success", "progress", "call_precision", "call_recall"):
        assert overall[name] == 0.0, name
    assert overall["parallel_use"] == 0.0  # parallel tasks were played in no call turn at all
    assert overall["argument_accuracy"] is None and overall["dependency_order"] is None  # no call to judge
    records = read_jsonl(tmp_path / "weak" / "eval.jsonl")
    assert all(record["failure"].startswith("the final answer does not state") for record in records)


def test_the_held_out_set_is_reproducible_and_apart_from_a_run(tmp_path: Path) -> None:
    run_eval(tmp_path / "a", "eval.size=10")
    run_eval(tmp_path / "b", "eval.size=10")
    held_out = [task["id"] for task in read_jsonl(tmp_path / "a" / "tasks.jsonl") if task["kept"]]
    assert held_out == [task["id"] for task in read_jsonl(tmp_path / "b" / "tasks.jsonl") if task["kept"]]
    run_pipeline(tmp_path / "gen", ["num_tasks=10"])
    generated = {task["id"] for task in read_jsonl(tmp_path / "gen" / "tasks.jsonl")}
    assert not generated & set(held_out)

    summary = run_eval(tmp_path / "c", "eval.size=10", f"eval.train={tmp_path / 'gen'}")
    assert summary["overlap"]["train_tasks"] == 10
    assert 0 <= summary["overlap"]["same_text"] <= summary["overlap"]["same_functions"] <= 10


def test_a_run_directory_s_tasks_are_evaluated_with_its_trajectories_as_references(tmp_path: Path) -> None:
    run_pipeline(tmp_path / "gen", ["num_tasks=6"])
    summary = run_eval(
        tmp_path / "eval", "eval.size=50", f"eval.tasks={tmp_path / 'gen'}", f"eval.train={tmp_path / 'gen'}", "agents/assistant=no_calls"
    )
    kept = [task["id"] for task in read_jsonl(tmp_path / "gen" / "tasks.jsonl") if task["kept"]]
    assert [record["task_id"] for record in read_jsonl(tmp_path / "eval" / "eval.jsonl")] == kept
    assert summary["overlap"]["same_text"] == summary["overlap"]["same_functions"] == len(kept)  # all contaminated
    assert summary["overall"]["success"] == 0.0


def test_bad_eval_input_is_one_line(tmp_path: Path) -> None:
    result = run_button("eval", f"eval.tasks={tmp_path / 'missing'}", f"hydra.run.dir={tmp_path / 'run'}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"button: error: eval.tasks={tmp_path / 'missing'}: no tasks.jsonl there; name a directory `button` generated"]
    with pytest.raises(Exception, match="no eval.json"):
        eval_compare([str(tmp_path)])


# --- an LLM under test, over loopback ------------------------------------------------------------


class GoldModel:
    """Plays the assistant as model ``gold`` (the gold plan's calls, wave by wave, then the true
    answer) or as model ``lazy`` (answers at once); the task is recognised by its function set."""

    def __init__(self, tasks: list[CompositionalTask]) -> None:
        world = load_world()
        self.plans = {frozenset(s.name for s in t.functions): (t, run_gold_plan(t, world.result)) for t in tasks}

    def __call__(self, body: dict[str, Any]) -> Reply:
        assert request_role() == "assistant", request_role()
        if body["model"] == "lazy":
            return Reply(chat_completion("I think it is probably fine.", model="lazy"))
        task, run = self.plans[frozenset(tool["function"]["name"] for tool in body["tools"])]
        done = sum(1 for message in body["messages"] if message["role"] == "assistant" and message.get("tool_calls"))
        waves = gold_waves(task)
        if done < len(waves):
            calls = [{"name": task.atomic_tasks[i].step.function, "arguments": run.inputs[i]} for i in waves[done]]
            return Reply(chat_completion(None, calls, model="gold"))
        answer = "; ".join(str(leaf) for value in run.answers() for leaf in leaves(value))
        return Reply(chat_completion(f"Here is what I found: {answer}.", model="gold"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackChatServer]:
    directory = tmp_path_factory.mktemp("held-out")
    run_eval(directory, "eval.size=3")
    tasks = [CompositionalTask.model_validate(record) for record in read_jsonl(directory / "tasks.jsonl") if record["kept"]]
    with LoopbackChatServer(GoldModel(tasks)) as running:
        yield running


def llm_overrides(server: LoopbackChatServer, tmp_path: Path) -> list[str]:
    return [
        "model=openai",
        "agents/user=scripted",
        f"model.base_url={server.base_url}",
        "model.api_key_env=null",
        f"model.cache_dir={tmp_path / 'cache'}",
        "eval.size=3",
    ]


def test_an_llm_assistant_is_evaluated_over_loopback(server: LoopbackChatServer, tmp_path: Path) -> None:
    run_dir = tmp_path / "gold"
    result = run_button(
        "eval",
        *llm_overrides(server, tmp_path),
        "agents.assistant.model.name=gold",
        "+pricing.per_million_tokens.gold={prompt:1.0,completion:2.0}",
        f"hydra.run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr
    assert "model: gold" in result.stdout and "overall" in result.stdout
    summary = json.loads((run_dir / "eval.json").read_text())
    assert summary["overall"]["success"] == summary["overall"]["progress"] == 1.0
    assert summary["overall"]["completion_tokens"] > 0
    records = read_jsonl(run_dir / "eval.jsonl")
    assert len(records) == 3 and all(record["prompt_tokens"] > 0 and record["trajectory"]["messages"] for record in records)
    for record in records:
        assert record["cost"] == pytest.approx((record["prompt_tokens"] + 2 * record["completion_tokens"]) / 1e6)
    assert summary["overall"]["cost"] == pytest.approx(sum(record["cost"] for record in records))
    plan_heading = render_prompt("assistant_plan", plan="").splitlines()[0]
    assert not any(plan_heading in json.dumps(request.body) for request in server.requests)  # no plan for the model under test


def test_two_models_in_one_sweep_give_one_comparison_table(server: LoopbackChatServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "sweep"
    result = run_button("eval", "-m", *llm_overrides(server, tmp_path), "agents.assistant.model.name=gold,lazy", f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index("model (run)"):].splitlines()
    rows = {line.split()[0]: line.split() for line in table[1:] if line.strip()}
    assert set(rows) == {"gold", "lazy"}
    assert rows["gold"][3] == "1.000" and rows["lazy"][3] == "0.000"  # success, after label, run and tasks
    assert eval_compare([str(sweep / "0"), str(sweep / "1")]) == 0
    assert capsys.readouterr().out.count("\n") == 3


# --- each metric moves on the fault it measures ----------------------------------------------------


Conversation = tuple[CompositionalTask, Trajectory]


@pytest.fixture(scope="module")
def oracle_conversations(tmp_path_factory: pytest.TempPathFactory) -> list[Conversation]:
    directory = tmp_path_factory.mktemp("oracle")
    run_eval(directory, "eval.size=12")
    tasks = {record["id"]: CompositionalTask.model_validate(record) for record in read_jsonl(directory / "tasks.jsonl")}
    trajectories = [Trajectory.model_validate(record) for record in read_jsonl(directory / "trajectories.jsonl")]
    return [(tasks[trajectory.task_id], trajectory) for trajectory in trajectories]


@pytest.fixture(scope="module")
def chain(oracle_conversations: list[Conversation]) -> Conversation:
    """Three calls, each using the one before."""
    return next(pair for pair in oracle_conversations if gold_waves(pair[0]) == [[0], [1], [2]])


@pytest.fixture(scope="module")
def fan_in(oracle_conversations: list[Conversation]) -> Conversation:
    """Two independent calls, then reasoning over both."""
    return next(pair for pair in oracle_conversations if gold_waves(pair[0]) == [[0, 1]])


def scored(task: CompositionalTask, trajectory: Trajectory) -> dict[str, Any]:
    return score_task(task, trajectory, truth=load_world().result).model_dump()


def call_turns(trajectory: Trajectory) -> list[Message]:
    return [message for message in trajectory.messages if message.tool_calls]


def test_the_oracle_conversations_score_one(chain: Conversation, fan_in: Conversation) -> None:
    # what does not apply is not judged: nothing in a chain runs in parallel; no call uses another in a fan-in
    for conversation, not_applicable in ((chain, "parallel_use"), (fan_in, "dependency_order")):
        scores = {name: scored(*conversation)[name] for name in SCORES}
        assert scores == {name: None if name == not_applicable else 1.0 for name in SCORES}


def test_a_wrong_argument_costs_progress_precision_and_argument_accuracy_not_recall(chain: Conversation) -> None:
    task, trajectory = chain
    wrong = trajectory.model_copy(deep=True)
    consumer = call_turns(wrong)[-1].tool_calls[0]
    consumer.arguments[next(iter(consumer.arguments))] = "Nowhere At All"
    score = scored(task, wrong)
    assert score["call_recall"] == 1.0
    assert score["progress"] == score["argument_accuracy"] == score["call_precision"] == pytest.approx(2 / 3)


def test_calls_out_of_order_are_seen(chain: Conversation) -> None:
    task, trajectory = chain
    backwards = trajectory.model_copy(deep=True)
    first, last = call_turns(backwards)[0], call_turns(backwards)[-1]
    a, b = backwards.messages.index(first), backwards.messages.index(last)
    backwards.messages[a], backwards.messages[b] = last, first
    score = scored(task, backwards)
    assert score["dependency_order"] == 0.0 and score["progress"] == 1.0


def test_independent_calls_made_one_at_a_time_are_seen(fan_in: Conversation) -> None:
    task, trajectory = fan_in
    serial = trajectory.model_copy(deep=True)
    first = call_turns(serial)[0]
    index = serial.messages.index(first)
    serial.messages[index : index + 1] = [first.model_copy(update={"tool_calls": [call]}) for call in first.tool_calls]
    score = scored(task, serial)
    assert score["parallel_use"] == 0.5 and score["progress"] == score["success"] == 1.0
    assert scored(task, serial.model_copy(update={"parallel_calls": False}))["parallel_use"] is None  # not allowed: not judged


def test_a_task_without_a_gold_plan_is_checked_against_its_reference(chain: Conversation) -> None:
    task, reference = chain
    written = task.model_copy(update={"atomic_tasks": [atomic.model_copy(update={"step": None}) for atomic in task.atomic_tasks]})
    assert score_task(written, reference, reference=reference).success == 1.0
    vague = reference.model_copy(deep=True)
    vague.messages[-1].content = "It is the usual one there."
    score = score_task(written, vague, reference=reference)
    assert score.success == 0.0 and "as the reference's does" in score.failure
    assert score.progress is None  # no gold plan: no calls to judge
    assert score_task(written, vague).success is None  # and no reference: nothing to check against
