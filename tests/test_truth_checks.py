"""The checks of truth: grounded arguments, a call per sub-task, grounded and correct answers,
plan leaks; each fires on a crafted trajectory and stays quiet on a good one, offline and over
a loopback LLM endpoint."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken
from autogen_core.models import FunctionExecutionResult, ModelInfo
from autogen_ext.models.openai import OpenAIChatCompletionClient
from omegaconf import OmegaConf

from agents.base import ToolRole
from agents.llm import LLMAssistant, LLMUser
from fake_endpoint import LoopbackChatServer, Reply, chat_completion
from agents.messages import FunctionCallMessage, FunctionResultMessage
from agents.offline import OracleAssistant, SchemaToolSimulator, ScriptedUser
from button.api import compose_config
from button.app import build_verifier
from button.closing import quality_line
from button.settings import validate_settings
from composition.gold import GoldPlanError, run_gold_plan
from composition.jsonl import read_records
from composition.models import CompositionalTask, OutputRef, Step
from conftest import REPO
from environment.answers import CorrectAnswer
from environment.controller import EnvironmentController
from environment.mentions import Mentions
from environment.quality import quality_figures
from environment.trajectory import Trajectory
from environment.verification import Verifier, default_checks
from task_factory import (
    STRING,
    atomic,
    compose,
    comparison_task,
    parallel_then_sequential_task,
    reasoning_task,
    sequential_task,
    spec,
    unplanned_task,
)

MAX_TURNS = 12


class SmallWorld:
    """A deterministic stand-in for the grounded world: true facts for the book tasks only."""

    AUTHORS = {"dune": "Frank Herbert"}
    BIRTHS = {"frank herbert": "1920-10-08"}

    def call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        if name == "get_book_author":
            title = arguments["title"]
            return {"title": title, "author": self.AUTHORS[title.casefold()], "published_year": 1965}
        if name == "get_birth_date":
            person = arguments["person"]
            return {"person": person, "birth_date": self.BIRTHS[person.casefold()], "birthplace": "Tacoma"}
        raise KeyError(f"the small world knows no function {name!r}")


class WorldTool(ToolRole):
    """Answers every call from the small world, as a world-backed tool simulator would."""

    def __init__(self, context: Any, name: str | None = None, description: str | None = None, **options: Any) -> None:
        super().__init__(context, name, description)

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        calls = next(m for m in reversed(messages) if isinstance(m, FunctionCallMessage))
        results = [
            FunctionExecutionResult(
                content=json.dumps(SmallWorld().call(call.name, json.loads(call.arguments))),
                name=call.name,
                call_id=call.id,
                is_error=False,
            )
            for call in calls.content
        ]
        return Response(chat_message=FunctionResultMessage(content=results, source=self.name))


async def played(
    task: CompositionalTask, tool: Any = SchemaToolSimulator, user: Any = ScriptedUser, assistant: Any = OracleAssistant
) -> Trajectory:
    return await EnvironmentController(user, assistant, tool).run(task)


async def verified(trajectory: Trajectory, task: CompositionalTask, truth: Any = None) -> Trajectory:
    return await Verifier(default_checks(MAX_TURNS, truth=truth)).verify(trajectory, task)


def check(trajectory: Trajectory, name: str) -> Any:
    return next(result for result in trajectory.checks if result.name == name)


# --- the gold-plan executor ---------------------------------------------------------------------


def test_the_gold_plan_runs_in_dag_order_on_any_call_source() -> None:
    run = run_gold_plan(sequential_task(), SmallWorld().call)
    assert run.complete and run.failure is None
    assert run.inputs[1] == {"person": "Frank Herbert"}
    assert run.answers() == ["1920-10-08"]


def test_a_choice_is_stated_by_the_chosen_value_and_a_failed_call_stops_the_run() -> None:
    temperatures = {"Oslo": 4.5, "Lisbon": 19}
    run = run_gold_plan(
        comparison_task(), lambda name, args: {"temperature": temperatures[args["city"]], "condition": "sun"}
    )
    assert run.value(2) == "b" and run.answers() == [19]
    broken = run_gold_plan(sequential_task(), lambda name, args: {"title": "Dune"})
    assert not broken.complete and broken.failed_step == 0 and "no field 'author'" in (broken.failure or "")
    with pytest.raises(GoldPlanError, match="no gold step"):
        run_gold_plan(unplanned_task(), SmallWorld().call)


# --- reading values in text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("It costs $1,200 in total.", 1200.0),
        ("It costs 1200.0 dollars.", "1,200"),
        ("A table for two, please.", 2),
        ("She was born on June 14, 2025.", "2025-06-14"),
        ("She was born on 14th June 2025.", "2025-06-14"),
        ("It is in SAN  francisco.", "San Francisco"),
        ("Streaming: Dune Part Two.", "Dune: Part Two"),
        ("Skills: Python, SQL and Go.", ["python", "SQL", "Go"]),
        ("The rate is 3.2e-05 EUR per VND.", 3.2e-05),
        ("The rate is 0.000032 EUR per VND.", 3.2e-05),
    ],
)
def test_values_are_recognised_across_formats(text: str, value: Any) -> None:
    assert Mentions(text).mentions(value)


def test_a_half_way_value_may_be_rounded_either_way() -> None:
    assert Mentions("The rate is 12.38 NOK per CHF.").states(12.375)
    assert Mentions("The rate is 12.37 NOK per CHF.").states(12.375)
    assert not Mentions("The rate is 12.39 NOK per CHF.").states(12.375)


def test_answers_may_round_but_arguments_must_match_exactly() -> None:
    said = Mentions("The fare is about 1,929 euros and 6.4 million people live there; it was 2025-09-03.")
    assert said.states(1928.87) and not said.mentions(1928.87)
    assert said.states(6446317) and not said.states(6500001)
    assert not said.states(2025) and not said.states(1931)
    assert Mentions("It is 84.34 lower.").states(-84.34) and not Mentions("It is -84.34.").mentions(84.34)


# --- ungrounded_argument ------------------------------------------------------------------------


def vague(task: CompositionalTask, text: str) -> CompositionalTask:
    return task.model_copy(update={"text": text, "id": task.id + "-vague"})


async def test_an_argument_the_user_never_gave_is_ungrounded() -> None:
    task = vague(sequential_task(), "When was the author of a certain novel born?")
    result = await verified(await played(task), task)
    assert result.reject_reason == "ungrounded_argument", result.checks
    assert "'Dune'" in check(result, "grounded_arguments").detail


async def test_the_assistant_saying_a_value_first_does_not_ground_it() -> None:
    task = vague(sequential_task(), "When was the author of a certain novel born?")
    trajectory = await played(task)
    trajectory.messages[1].content = "I will look up the novel Dune."
    assert (await verified(trajectory, task)).reject_reason == "ungrounded_argument"


async def test_values_from_results_enums_and_other_formats_are_grounded() -> None:
    task = reasoning_task()  # the unit "celsius" is an enum member the user never says
    trajectory = await played(task)
    trajectory.messages[0].content = "How much WARMER is it in lisbon than in  OSLO right now?"
    result = await verified(trajectory, task)
    assert result.kept, result.checks


def price_conversion_task() -> CompositionalTask:
    """Two prices added up by reasoning, then the sum converted: a derived argument value."""
    price = spec(
        "get_price",
        "Price of a product in US dollars.",
        {"product": STRING},
        {"price": {"type": "number", "minimum": 1, "maximum": 500}},
    )
    convert = spec(
        "convert_usd", "Convert US dollars to euros.", {"amount": {"type": "number"}}, {"euros": {"type": "number"}}
    )

    def priced(product: str) -> Any:
        return atomic(
            f"How much is the {product}?",
            f"the price of the {product}",
            [price],
            Step(function="get_price", arguments={"product": product}, output_field="price"),
        )

    total = atomic(
        "What do both cost together?",
        "the total price",
        [],
        Step(operation="sum", bindings={"a": OutputRef(task=0), "b": OutputRef(task=1)}),
    )
    euros = atomic(
        "What is that total in euros?",
        "the total in euros",
        [convert],
        Step(function="convert_usd", bindings={"amount": OutputRef(task=2)}, output_field="euros"),
    )
    return compose(
        "What do the Kindle and the iPad cost together, in euros?",
        "sequential",
        [priced("Kindle"), priced("iPad"), total, euros],
        [(0, 2), (1, 2), (2, 3)],
    )


async def test_a_value_derived_by_a_gold_reasoning_step_is_grounded_but_not_without_a_plan() -> None:
    task = price_conversion_task()
    result = await verified(await played(task), task)
    assert result.kept, result.checks
    unplanned = task.model_copy(
        update={"atomic_tasks": [a.model_copy(update={"step": None}) for a in task.atomic_tasks]}
    )
    replayed = await played(task)
    assert (await verified(replayed, unplanned)).reject_reason == "ungrounded_argument"


# --- missing_call: a call per sub-task ----------------------------------------------------------


CONCERTS = spec(
    "get_next_concert",
    "The next concert of an artist.",
    {"artist": STRING},
    {"date": {"type": "string", "format": "date"}, "city": STRING},
)


def concerts_task() -> CompositionalTask:
    def next_concert(artist: str) -> Any:
        return atomic(
            f"When is the next concert of {artist}?",
            f"the next concert of {artist}",
            [CONCERTS],
            Step(function="get_next_concert", arguments={"artist": artist}, output_field="date"),
        )

    return compose(
        "When are the next concerts of Beyonce and of Adele?",
        "parallel",
        [next_concert("Beyonce"), next_concert("Adele")],
        [],
    )


def only_the_first_artist(trajectory: Trajectory) -> None:
    del trajectory.messages[1].tool_calls[1]
    del trajectory.messages[2].tool_results[1]
    trajectory.messages[-1].content = "All steps are done."


@pytest.mark.parametrize("planned", [True, False])
async def test_two_sub_tasks_with_one_function_need_two_calls(planned: bool) -> None:
    task = concerts_task()
    trajectory = await played(task)
    assert (await verified(trajectory, task)).kept
    only_the_first_artist(trajectory)
    if not planned:
        task = task.model_copy(
            update={"atomic_tasks": [a.model_copy(update={"step": None}) for a in task.atomic_tasks]}
        )
    result = await verified(trajectory, task)
    assert result.reject_reason == "missing_call", result.checks


# --- ungrounded_answer and wrong_answer ---------------------------------------------------------


async def test_an_answer_that_states_no_result_is_ungrounded() -> None:
    task = sequential_task()
    trajectory = await played(task)
    born = trajectory.messages[4].tool_results[0].results["birth_date"]
    trajectory.messages[-1].content = "All steps are done."
    assert (await verified(trajectory, task)).reject_reason == "ungrounded_answer"
    year, month, day = (int(part) for part in born.split("-"))
    months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    trajectory.messages[-1].content = f"The author was born on {months[month - 1]} {day}, {year}."
    assert (await verified(trajectory, task)).kept


async def test_without_a_gold_plan_the_answer_must_state_a_value_of_the_last_result() -> None:
    task = unplanned_task()
    trajectory = await played(sequential_task())
    born = trajectory.messages[4].tool_results[0].results["birth_date"]
    trajectory.messages[-1].content = "All steps are done."
    assert (await verified(trajectory, task)).reject_reason == "ungrounded_answer"
    trajectory.messages[-1].content = f"Born {born}."
    result = await verified(trajectory, task)
    assert result.kept and "last call" in check(result, "grounded_answer").detail


async def test_an_answer_grounded_in_simulated_results_is_wrong_by_the_worlds_truth() -> None:
    task = sequential_task()
    invented = await played(task)  # schema-simulated results: well-formed, but not the truth
    result = await verified(invented, task, truth=SmallWorld())
    assert result.reject_reason == "wrong_answer", result.checks
    assert "1920-10-08" in check(result, "correct_answer").detail
    true = await verified(await played(task, tool=WorldTool), task, truth=SmallWorld())
    assert true.kept and check(true, "correct_answer").detail == ""
    assert "1920-10-08" in true.messages[-1].content


async def test_without_a_world_or_a_world_answer_the_correct_answer_check_passes_and_says_why() -> None:
    task = parallel_then_sequential_task()
    trajectory = await played(task)
    assert check(await verified(trajectory, task), "correct_answer").detail == "no world"
    unknown = await verified(trajectory, task, truth=SmallWorld())
    assert unknown.kept and "the world cannot answer" in check(unknown, "correct_answer").detail
    assert CorrectAnswer(SmallWorld().call).truth is not None


# --- plan_leak ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opening",
    [
        "Who wrote the novel Dune? And when was the author of Dune born?",
        "Please do this:\n1. find the author of Dune\n2. find their birth date",
    ],
)
async def test_a_user_turn_that_restates_the_breakdown_leaks_the_plan(opening: str) -> None:
    task = sequential_task()
    trajectory = await played(task)
    trajectory.messages[0].content = opening
    assert (await verified(trajectory, task)).reject_reason == "plan_leak"


@pytest.mark.parametrize(
    "details",
    [
        "Also, How long is the flight between the capitals of France and Japan?",  # close to the request itself
        "Some details:\n- Budget: 500 dollars\n- Dates: June 14, 2025",  # a list of values, not of steps
    ],
)
async def test_restating_the_request_or_listing_details_is_no_leak(details: str) -> None:
    task = parallel_then_sequential_task()
    trajectory = await played(task)
    trajectory.messages[0].content = f"{task.text} {details}"
    assert check(await verified(trajectory, task), "no_plan_leak").passed


# --- the offline oracle over a normal run -------------------------------------------------------


def test_the_offline_oracle_passes_every_check_over_a_normal_run(tmp_path) -> None:
    """The committed script behind the 5,000-task figure (rerun by hand), here on 60 tasks with
    parallel calls on and off: every trajectory of the oracle passes every check."""
    command = [sys.executable, "-m", "benchmarks.checks_5000", "--tasks", "60", "--run-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    for parallel in ("true", "false"):
        assert f"parallel_calls={parallel}: 60 trajectories, 60 passing every check" in done.stdout
    names = {
        c["name"]
        for record in read_records(tmp_path / "parallel_true" / "trajectories.jsonl")
        for c in record["checks"]
    }
    assert {"grounded_arguments", "covered_tasks", "grounded_answer", "correct_answer", "no_plan_leak"} <= names


# --- LLM roles over loopback ---------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(lambda body: Reply(chat_completion("unused"))) as running:
        yield running


def loopback_client(server: LoopbackChatServer) -> OpenAIChatCompletionClient:
    """The real AutoGen client pointed at the loopback server (no client-side retries)."""
    info = ModelInfo(vision=False, function_calling=True, json_output=True, family="unknown", structured_output=True)
    return OpenAIChatCompletionClient(
        model="loopback-model", base_url=server.base_url, api_key="test-key", max_retries=0, model_info=info
    )


def book_assistant(body: dict[str, Any]) -> Reply:
    """Plays an LLM assistant with native tool calls: Dune's author, then the birth date, then the
    answer; every request this server gets is the assistant's (the other roles are offline)."""
    turn = sum(message["role"] == "assistant" for message in body["messages"])
    results = [json.loads(message["content"]) for message in body["messages"] if message["role"] == "tool"]
    if turn == 0:
        return Reply(chat_completion(None, [{"name": "get_book_author", "arguments": {"title": "Dune"}}]))
    if turn == 1:
        return Reply(
            chat_completion(None, [{"name": "get_birth_date", "arguments": {"person": results[-1]["author"]}}])
        )
    return Reply(chat_completion(f"The author of Dune was born on {results[-1]['birth_date']}."))


@pytest.mark.parametrize(
    ("text", "reason"), [("When was the author of a certain novel born?", "ungrounded_argument"), (None, None)]
)
async def test_an_llm_assistant_that_invents_an_argument_is_rejected(
    server, text: str | None, reason: str | None
) -> None:
    task = sequential_task() if text is None else vague(sequential_task(), text)
    server.responder = book_assistant
    assistant = functools.partial(LLMAssistant, model_client=loopback_client(server))
    result = await verified(await played(task, assistant=assistant), task)
    assert result.reject_reason == reason, result.checks
    assert result.calls[0].arguments == {"title": "Dune"}


async def test_an_llm_user_that_recites_the_sub_tasks_is_a_plan_leak_and_its_prompt_has_values_not_steps(
    server,
) -> None:
    task = price_conversion_task()
    steps = " ".join(atomic.text for atomic in task.atomic_tasks)
    server.responder = lambda body: Reply(chat_completion(f"Hi! {steps}"))
    user = functools.partial(LLMUser, model_client=loopback_client(server))
    result = await verified(await played(task, user=user), task)
    assert result.reject_reason == "plan_leak", result.checks
    prompt = server.requests[0].body["messages"][0]["content"]
    assert "Kindle" in prompt and "iPad" in prompt and task.text in prompt
    assert not any(atomic.text in prompt for atomic in task.atomic_tasks)


# --- quality figures ----------------------------------------------------------------------------


async def test_quality_figures_count_grounding_correctness_diversity_and_agreement() -> None:
    task = sequential_task()
    true = await verified(await played(task, tool=WorldTool), task, truth=SmallWorld())
    unsaid = vague(task, "When was the author of a certain novel born?")
    invented = await verified(await played(unsaid), unsaid, truth=SmallWorld())
    tasks = {task.id: task, unsaid.id: unsaid}
    records = [t.model_dump(mode="json") for t in (true, true, invented)]
    figures = quality_figures(records, tasks.get)
    assert figures["grounded_calls"] == {"calls": 6, "grounded": 5, "share": round(5 / 6, 4)}
    assert figures["answers"] == {"final": 3, "checked": 3, "correct": 2, "correct_share": round(2 / 3, 4)}
    alone = quality_figures(records[:1], tasks.get)["distinct_4grams"]
    assert 0 < alone["user"] <= 1 and 0 < alone["assistant"] <= 1
    for role, share in figures["distinct_4grams"].items():  # the same kept text twice: half as varied
        assert share == pytest.approx(alone[role] / 2, abs=1e-4)
    # Dune's author: twice from the world, once simulated (disagrees); the birth date twice from the world
    assert figures["repeated_calls"] == {"repeated": 2, "agreeing": 1, "share": 0.5}
    assert "grounded calls 83.3%" in quality_line(figures) and "2/3 correct" in quality_line(figures)
    unchecked = [{**record, "checks": []} for record in records]  # grounding not recorded: worked out again
    assert quality_figures(unchecked, tasks.get)["grounded_calls"] == figures["grounded_calls"]
    assert quality_figures(unchecked, {}.get)["grounded_calls"] == {"calls": 0, "grounded": 0, "share": None}


def test_environment_truth_wires_a_world_into_the_correct_answer_check() -> None:
    """How a truth source is plugged in: ``environment.truth`` auto, null or ``{_target_: <factory>}``."""

    def correct_answer(overrides: list[str]) -> CorrectAnswer:
        cfg = compose_config(overrides)
        settings = validate_settings(OmegaConf.to_container(cfg, resolve=True))
        return next(c for c in build_verifier(cfg, settings, None).checks if isinstance(c, CorrectAnswer))

    by_default = correct_answer([]).truth  # agents/tool=world: the world's results are the truth
    assert by_default is not None and by_default("get_city_info", {"city": "Lyon"})["country"] == "France"
    assert correct_answer(["agents/tool=schema"]).truth is None  # invented results are no truth
    assert correct_answer(["environment.truth=null"]).truth is None
    wired = correct_answer([f"environment.truth={{_target_:{__name__}.SmallWorld}}"])
    assert wired.truth is not None and wired.truth("get_book_author", {"title": "Dune"})["author"] == "Frank Herbert"
