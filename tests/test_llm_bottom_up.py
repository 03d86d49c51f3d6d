"""The LLM bottom-up phase against the loopback chat server, through the real AutoGen client."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import SystemMessage, UserMessage
from jsonschema import Draft202012Validator

from fake_endpoint import LoopbackChatServer
from agents.model_clients import ModelClients
from composition.errors import ConfigurationError
from composition.jsonl import read_records
from composition.llm.seeds import SeedFileError, read_seed_conversations
from composition.llm.source import PACKAGED_SEEDS, LLMTaskSource
from composition.llm.stages import (
    AtomicTaskGeneration,
    Composition,
    FunctionGeneration,
    ScenarioExpansion,
    ScenarioExtraction,
    StageContext,
    TaskFilter,
)
from composition.llm.structured import JsonAnswer, Rejection, ask_json
from composition.models import AtomicTask, CompositionalTask, Scenario
from composition.stats import PipelineStats
from composition.strategies import available_strategies, get_strategy
from llm_responders import StageResponder, error_reply, json_reply, refusal_reply, schema_name, text_reply

SECRET = "sk-test-BOTTOM-UP-91c2e"
STRATEGIES = {"sequential": 1.0, "parallel_then_sequential": 1.0}


@pytest.fixture
def responder() -> StageResponder:
    return StageResponder()


@pytest.fixture
def server(responder: StageResponder) -> Iterator[LoopbackChatServer]:
    """A server per test, so requests a previous test left in flight never land in this one."""
    with LoopbackChatServer(responder) as running:
        yield running


@pytest.fixture
async def clients(server: LoopbackChatServer, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ModelClients]:
    monkeypatch.setenv("BOTTOM_UP_TEST_KEY", SECRET)
    built = ModelClients(
        {
            "provider": "openai",
            "name": "stage-model",
            "base_url": server.base_url,
            "api_key_env": "BOTTOM_UP_TEST_KEY",
            "max_retries": 1,
        }
    )
    yield built
    await built.close()


@pytest.fixture
def context(clients: ModelClients) -> StageContext:
    return StageContext(clients, PipelineStats(), seed=0, retries=2)


def bodies(server: LoopbackChatServer, name: str) -> list[dict[str, Any]]:
    return [request.body for request in server.requests if schema_name(request.body) == name]


ATOMIC = AtomicTask(id="atomic-1", text="Who founded the company Bamo Limited?", reference="the founder of Bamo Limited")
SCENARIO = Scenario(id="scenario-1", text="A traveller plans a trip to Porto in May.")


# --- each stage's happy path, with structured outputs requested --------------------------------


async def test_extraction_asks_with_a_strict_json_schema(context: StageContext, server: LoopbackChatServer) -> None:
    seed = read_seed_conversations(PACKAGED_SEEDS)[0]
    scenario = await ScenarioExtraction().run(context, seed)
    assert scenario is not None and scenario.source == "seed_conversations.jsonl:1"
    [body] = bodies(server, "ExtractedScenario")
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["required"] == ["scenario"]
    assert "Lyon to Turin" in body["messages"][1]["content"]
    assert "short" in body["messages"][0]["content"]  # the prompt file is the system message


async def test_expansion_returns_the_asked_number(context: StageContext, server: LoopbackChatServer) -> None:
    scenarios = await ScenarioExpansion().run(context, SCENARIO, 4)
    assert len({s.text for s in scenarios}) == 4
    assert all(s.source == SCENARIO.id for s in scenarios)
    assert "exactly 4 scenarios" in bodies(server, "NewScenarios")[0]["messages"][0]["content"]


async def test_atomic_task_keeps_scenario_and_answer_phrase(context: StageContext) -> None:
    task = await AtomicTaskGeneration().run(context, SCENARIO)
    assert task is not None and task.scenario == SCENARIO.text
    assert task.reference and task.reference.startswith("the founder of")


@pytest.mark.parametrize("strategy_name", available_strategies())
async def test_composition_follows_the_strategy_shape(
    context: StageContext, server: LoopbackChatServer, strategy_name: str
) -> None:
    strategy = get_strategy(strategy_name)({"max_chain_length": 3, "hops": 4, "width": 3})
    expected = strategy.shape(random.Random(7))
    task = await Composition().run(context, ATOMIC, strategy, random.Random(7))
    assert task is not None and task.strategy == strategy_name
    assert task.atomic_tasks[0] == ATOMIC
    assert len(task.atomic_tasks) == expected.size and task.edges == list(expected.edges)
    system = bodies(server, "CompositionDraft")[0]["messages"][0]["content"]
    if strategy_name in ("sequential", "parallel_then_sequential"):  # their own prompts
        assert ("sequential strategy" if strategy_name == "sequential" else "parallel task") in system
    else:  # the generic prompt, fed the strategy's description
        assert strategy.description in system


async def test_a_parallel_task_passes_the_filters_its_strategy_declares(context: StageContext, server: LoopbackChatServer) -> None:
    second = ATOMIC.model_copy(update={"text": "Who founded the other one?"})
    task = CompositionalTask(id="t1", text="Both?", strategy="parallel", atomic_tasks=[ATOMIC, second], edges=[])
    rejected = await TaskFilter().run(context, task)
    assert rejected.reject_reason == "filter:disconnected_task"
    kept = await TaskFilter().run(context, task, get_strategy("parallel").filters)
    assert kept.kept


async def test_filter_runs_structural_checks_before_the_judge(context: StageContext, server: LoopbackChatServer) -> None:
    good = CompositionalTask(id="t1", text="Task", strategy="sequential", atomic_tasks=[ATOMIC, ATOMIC.model_copy(update={"text": "Then?"})], edges=[(0, 1)])
    kept = await TaskFilter().run(context, good)
    assert kept.kept and len(bodies(server, "Verdict")) == 1
    broken = good.model_copy(update={"edges": []})  # the second task is disconnected
    rejected = await TaskFilter().run(context, broken)
    assert (rejected.kept, rejected.reject_reason) == (False, "filter:disconnected_task")
    assert len(bodies(server, "Verdict")) == 1  # no judge request for a structurally broken task
    assert context.stats.stage("filter").rejected == {"disconnected_task": 1}


async def test_judge_can_reject_or_be_switched_off(context: StageContext, server: LoopbackChatServer, responder: StageResponder) -> None:
    task = CompositionalTask(id="t1", text="Task", strategy="sequential", atomic_tasks=[ATOMIC, ATOMIC.model_copy(update={"text": "Then?"})], edges=[(0, 1)])
    responder.push("Verdict", lambda body: json_reply(body, {"solves": False, "reason": "The second task is unrelated."}))
    judged = await TaskFilter().run(context, task)
    assert judged.reject_reason == "filter:judge_rejected"
    unjudged = await TaskFilter(judge=False).run(context, task)
    assert unjudged.kept and len(bodies(server, "Verdict")) == 1


async def test_functions_line_up_and_pass_the_meta_schema(context: StageContext, server: LoopbackChatServer) -> None:
    task = CompositionalTask(id="t1", text="Task", strategy="sequential", atomic_tasks=[ATOMIC, ATOMIC.model_copy(update={"text": "Then?"})], edges=[(0, 1)])
    done = await FunctionGeneration().run(context, task)
    assert done.kept and [len(a.functions) for a in done.atomic_tasks] == [1, 1]
    for spec in done.functions:
        Draft202012Validator.check_schema(spec.parameters)
        Draft202012Validator.check_schema(spec.responses)
    producer, consumer = (a.functions[0] for a in done.atomic_tasks)
    assert set(producer.responses["properties"]) & set(consumer.parameters["properties"])
    [body] = bodies(server, "FunctionPlan")
    assert body["response_format"]["json_schema"]["strict"] is False  # free-form JSON Schemas inside
    assert "2. Then? (uses the result of 1)" in body["messages"][1]["content"]


# --- invalid answers, retries and rejections ----------------------------------------------------


async def test_invalid_json_is_fed_back_and_retried(context: StageContext, server: LoopbackChatServer, responder: StageResponder) -> None:
    responder.push("AtomicTaskDraft", text_reply("Sure! Here is the task: who founded"))
    task = await AtomicTaskGeneration().run(context, SCENARIO)
    assert task is not None
    first, second = bodies(server, "AtomicTaskDraft")
    assert second["messages"][-2] == {"role": "assistant", "content": "Sure! Here is the task: who founded"}
    assert "invalid json" in second["messages"][-1]["content"]
    assert context.stats.stage("atomic_tasks").rejected == {}


async def test_schema_breaking_json_is_rejected_after_the_retries(
    context: StageContext, server: LoopbackChatServer, responder: StageResponder
) -> None:
    responder.push("AtomicTaskDraft", *[lambda body: json_reply(body, {"task": "Who?"})] * 3)
    assert await AtomicTaskGeneration().run(context, SCENARIO) is None
    assert len(bodies(server, "AtomicTaskDraft")) == 3  # first try + retries=2
    assert context.stats.stage("atomic_tasks").rejected == {"schema_mismatch": 1}


async def test_stage_rules_are_checked_and_fed_back(context: StageContext, server: LoopbackChatServer, responder: StageResponder) -> None:
    placeholder = {"task": "What is the weather in [city] tomorrow?", "answer": "the weather"}
    responder.push("AtomicTaskDraft", *[lambda body: json_reply(body, placeholder)] * 3)
    assert await AtomicTaskGeneration().run(context, SCENARIO) is None
    assert "[city]" in bodies(server, "AtomicTaskDraft")[1]["messages"][-1]["content"]
    assert context.stats.stage("atomic_tasks").rejected == {"placeholder": 1}


async def test_refusal_is_read_retried_then_rejected(context: StageContext, server: LoopbackChatServer, responder: StageResponder) -> None:
    responder.push("ExtractedScenario", *[refusal_reply] * 3)
    seed = read_seed_conversations(PACKAGED_SEEDS)[1]
    assert await ScenarioExtraction().run(context, seed) is None
    asked = bodies(server, "ExtractedScenario")
    assert len(asked) == 3  # the first answer and two retries, each with feedback (no cache replay)
    assert asked[1]["messages"][-1]["content"].startswith("You gave no answer")
    assert context.stats.stage("extract_scenarios").rejected == {"refusal": 1}


async def test_one_refusal_is_retried_into_an_answer(context: StageContext, responder: StageResponder) -> None:
    responder.push("ExtractedScenario", refusal_reply)
    seed = read_seed_conversations(PACKAGED_SEEDS)[1]
    assert await ScenarioExtraction().run(context, seed) is not None


async def test_truncated_answers_are_retried_then_rejected(context: StageContext, responder: StageResponder) -> None:
    responder.push("Verdict", *[text_reply('{"solves": tr', finish_reason="length")] * 3)
    task = CompositionalTask(id="t1", text="Task", strategy="sequential", atomic_tasks=[ATOMIC, ATOMIC.model_copy(update={"text": "Then?"})], edges=[(0, 1)])
    judged = await TaskFilter().run(context, task)
    assert judged.reject_reason == "filter:truncated"


@pytest.mark.parametrize("status", [500, 429])
async def test_endpoint_errors_become_rejections(
    context: StageContext, server: LoopbackChatServer, responder: StageResponder, clients: ModelClients, status: int
) -> None:
    responder.push("NewScenarios", error_reply(status), error_reply(status))
    assert await ScenarioExpansion().run(context, SCENARIO, 2) == []
    assert len(bodies(server, "NewScenarios")) == 2  # the openai client's own retry (max_retries=1)
    assert context.stats.stage("expand_scenarios").rejected == {"endpoint_error": 1}
    assert clients.usage()["stage-model"]["failed"] == 1


async def test_invalid_functions_get_one_repair_request(context: StageContext, server: LoopbackChatServer, responder: StageResponder) -> None:
    bad_name = {"tasks": [{"task": 1, "functions": [{"name": "get founder", "description": "d", "parameters": {"type": "object"}, "responses": {"type": "object"}}]}, {"task": 2, "functions": []}]}
    bad_schema = {"tasks": [{"task": 1, "functions": [{"name": "get_founder", "description": "d", "parameters": {"type": "object", "required": ["x"]}, "responses": {"type": "nothing"}}]}, {"task": 2, "functions": []}]}
    task = CompositionalTask(id="t1", text="Task", strategy="sequential", atomic_tasks=[ATOMIC, ATOMIC.model_copy(update={"text": "Then?"})], edges=[(0, 1)])
    responder.push("FunctionPlan", lambda body: json_reply(body, bad_name))
    repaired = await FunctionGeneration().run(context, task)
    assert repaired.kept and repaired.functions
    repair = bodies(server, "FunctionPlan")[1]["messages"][-1]["content"]
    assert "'get founder'" in repair and "name" in repair
    responder.push("FunctionPlan", lambda body: json_reply(body, bad_schema), lambda body: json_reply(body, bad_schema))
    rejected = await FunctionGeneration().run(context, task)
    assert rejected.reject_reason == "functions:invalid_functions"
    assert len(bodies(server, "FunctionPlan")) == 4
    assert context.stats.stage("functions").model_dump()["rejected"] == {"invalid_functions": 1}


async def test_raw_schema_answers_for_other_callers(clients: ModelClients, server: LoopbackChatServer, responder: StageResponder) -> None:
    """The tool simulator asks with a function's `responses` schema instead of a pydantic model."""
    responses = {"type": "object", "properties": {"price": {"type": "number"}}, "required": ["price"]}
    answer = JsonAnswer.from_schema("quote shipping", responses)
    messages = [SystemMessage(content="Play the function."), UserMessage(content="{}", source="user")]
    responder.push("quote_shipping", lambda body: json_reply(body, {"price": "cheap"}), lambda body: json_reply(body, {"price": 24.9}))
    assert await ask_json(clients.get(), messages, answer) == {"price": 24.9}
    assert bodies(server, "quote_shipping")[0]["response_format"]["json_schema"]["schema"] == responses
    responder.push("quote_shipping", lambda body: json_reply(body, {}))
    assert await ask_json(clients.get(), messages, answer, retries=0) == Rejection("schema_mismatch", "at (root): 'price' is a required property")


async def test_without_structured_outputs_the_schema_goes_into_the_prompt(
    clients: ModelClients, server: LoopbackChatServer, responder: StageResponder
) -> None:
    responder.answers[""] = lambda body: {"solves": True, "reason": "ok"}
    client = clients.get({"structured_output": False})
    answer = await ask_json(client, [SystemMessage(content="Judge."), UserMessage(content="x", source="user")], TaskFilter.answer)
    assert answer.solves is True
    body = server.requests[-1].body
    assert body["response_format"] == {"type": "json_object"}
    assert '"solves"' in body["messages"][0]["content"]


# --- the whole source ----------------------------------------------------------------------------


def make_source(clients: ModelClients | None, tmp_path: Path, **options: Any) -> LLMTaskSource:
    return LLMTaskSource(
        strategies=STRATEGIES,
        composition={"max_chain_length": 3},
        seed=3,
        stats=PipelineStats(),
        run_dir=tmp_path,
        model_clients=clients,
        **options,
    )


async def test_generate_end_to_end(clients: ModelClients, server: LoopbackChatServer, tmp_path: Path) -> None:
    source = make_source(clients, tmp_path, scenarios_per_seed=1, concurrency=4)
    tasks = [task async for task in source.generate(24)]  # more than 10 seeds' extracted scenarios give
    kept = [task for task in tasks if task.kept]
    assert len(kept) == 24 and source.end_reason == "enough"
    for task in kept:
        assert task.strategy in STRATEGIES and task.functions
        for spec in task.functions:
            Draft202012Validator.check_schema(spec.parameters)
            Draft202012Validator.check_schema(spec.responses)
    assert {name for name in source.stats.stages} == {"extract_scenarios", "expand_scenarios", "atomic_tasks", "compose", "filter", "functions"}
    assert source.stats.stage("functions").kept >= 24  # scenarios stream concurrently: more may finish first
    scenarios = list(read_records(tmp_path / "scenarios.jsonl"))
    atomic = list(read_records(tmp_path / "atomic_tasks.jsonl"))
    assert len(scenarios) == source.stats.stage("extract_scenarios").kept + source.stats.stage("expand_scenarios").kept
    assert len(atomic) == source.stats.stage("atomic_tasks").kept >= 12
    assert all(request.body["response_format"]["type"] == "json_schema" for request in server.requests)
    usage = clients.usage()["stage-model"]
    assert usage["requests"] + usage["cancelled"] == len(server.requests)  # cancelled: in flight when 4 were kept
    assert usage["prompt_tokens"] == 20 * usage["requests"]
    # the key reached the server, and nowhere else
    assert server.requests[0].headers.get("authorization", server.requests[0].headers.get("Authorization")) == f"Bearer {SECRET}"
    for path in tmp_path.rglob("*"):
        assert SECRET not in path.read_text()
    assert SECRET not in repr(source.stages) + repr(source.context) + repr(clients) + json.dumps(clients.usage())
    assert SECRET not in "".join(task.model_dump_json() for task in tasks)


async def test_generate_is_deterministic_and_does_not_rewrite_on_resume(clients: ModelClients, tmp_path: Path) -> None:
    first = [task.id async for task in make_source(clients, tmp_path, scenarios_per_seed=0).generate(2)]
    written = [record["id"] for record in read_records(tmp_path / "scenarios.jsonl")]
    again = [task.id async for task in make_source(clients, tmp_path, scenarios_per_seed=0).generate(2)]
    assert first == again
    rewritten = [record["id"] for record in read_records(tmp_path / "scenarios.jsonl")]
    assert rewritten[: len(written)] == written and len(set(rewritten)) == len(rewritten)  # seeds in flight may add, never repeat


async def test_duplicates_are_removed_at_every_level(clients: ModelClients, responder: StageResponder, tmp_path: Path) -> None:
    responder.answers["ExtractedScenario"] = lambda body: {"scenario": "A traveller needs a train to Turin."}
    responder.answers["NewScenarios"] = lambda body: {"scenarios": ["A cook needs a recipe.", "a COOK needs a recipe!", "A traveller needs a train to Turin"]}
    source = make_source(clients, tmp_path, scenarios_per_seed=3)
    tasks = [task async for task in source.generate(10)]
    assert source.stats.stage("extract_scenarios").model_dump()["rejected"] == {"duplicate": 9}
    assert source.stats.stage("expand_scenarios").kept == 1
    assert source.stats.stage("expand_scenarios").rejected == {"duplicate": 5}  # both scenarios were expanded
    assert [r["text"] for r in read_records(tmp_path / "scenarios.jsonl")] == ["A traveller needs a train to Turin.", "A cook needs a recipe."]
    assert len(tasks) == len({task.text for task in tasks}) <= 4  # two compositions per atomic task at most
    assert source.end_reason == "exhausted"


async def test_stage_models_can_differ(clients: ModelClients, server: LoopbackChatServer, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text('{"chat": "USER: Who founded Bamo Limited? ASSISTANT: Ada Bamo."}\n')
    source = make_source(clients, tmp_path, seed_conversations=seeds, scenarios_per_seed=0, stages={"filter": TaskFilter(model={"name": "judge-model"}), "functions": {"model": {"temperature": 0.1}}})
    _ = [task async for task in source.generate(1)]
    assert {body["model"] for body in bodies(server, "Verdict")} == {"judge-model"}
    assert {body["model"] for body in bodies(server, "AtomicTaskDraft")} == {"stage-model"}
    assert {body["temperature"] for body in bodies(server, "FunctionPlan")} == {0.1}
    assert set(clients.usage()) == {"stage-model", "judge-model"}


# --- configuration errors, before any request ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": [\n', ":2: not valid JSON"),
        ('{"chat": "USER: hi"}\n\n{"conversation": "USER: hi"}\n', ":3: a record needs a 'messages' list or a 'chat' text"),
        ('{"messages": [{"role": "user", "content": 5}]}\n', ":1: message content must be"),
        ('{"chat": ""}\n', ":1: 'chat' must be a non-empty string"),
        ("\n", ": holds no seed conversations"),
    ],
)
def test_bad_seed_file_names_file_and_line_before_any_request(
    clients: ModelClients, server: LoopbackChatServer, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "seeds.jsonl"
    path.write_text(content)
    with pytest.raises(SeedFileError) as raised:
        make_source(clients, tmp_path, seed_conversations=str(path))
    assert str(raised.value).startswith(str(path)) and problem in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ConfigurationError)
    assert server.requests == []


def test_missing_seed_file_and_bad_options_are_configuration_errors(clients: ModelClients, server: LoopbackChatServer, tmp_path: Path) -> None:
    with pytest.raises(SeedFileError, match="not found: /no/such/seeds.jsonl"):
        make_source(clients, tmp_path, seed_conversations="/no/such/seeds.jsonl")
    with pytest.raises(ConfigurationError, match="unknown stage.*'judge'.*allowed: extract_scenarios"):
        make_source(clients, tmp_path, stages={"judge": {}})
    with pytest.raises(ConfigurationError, match="scenarios_per_seed must be an integer >= 0"):
        make_source(clients, tmp_path, scenarios_per_seed=-1)
    with pytest.raises(ConfigurationError, match="model=offline"):
        make_source(None, tmp_path)
    with pytest.raises(ConfigurationError, match="unknown composition strategy 'zigzag'"):
        LLMTaskSource(strategies={"zigzag": 1.0}, model_clients=clients)
    assert server.requests == []


def test_the_hydra_config_builds_the_source(clients: ModelClients, server: LoopbackChatServer, tmp_path: Path) -> None:
    """conf/composition/source/llm.yaml: every _target_ resolves and stage models follow `model`."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from button.api import compose_config

    config = compose_config(
        ["model=openai", "model.name=stage-model", "model.temperature=0.2", "composition.source.stages.filter.model.name=judge-model"]
    )
    options = OmegaConf.to_container(config.composition.source, resolve=True)
    source = instantiate(options, strategies=STRATEGIES, composition={}, model_clients=clients, run_dir=tmp_path)
    assert source.seeds == read_seed_conversations(PACKAGED_SEEDS)
    assert source.stages["filter"].model == {"name": "judge-model", "temperature": 0.2} and source.stages["filter"].judge
    assert source.stages["atomic_tasks"].model == {"name": "stage-model", "temperature": 0.2}
    assert server.requests == []
