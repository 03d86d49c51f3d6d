"""Real servers misbehave in known ways; the reader repairs what it can and nothing broken is kept.

The reader's rules are tested on text; each behaviour then plays through whole conversations
over loopback HTTP (tests/misbehaviour.py on the fake endpoint), and the bottom-up phase runs
with reasoning blocks or fenced JSON in every answer.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_core import FunctionCall

from agents.llm import LLMAssistant, LLMToolSimulator, LLMUser
from composition.llm.reading import CallIds, CallMarkupError, calls_in_text, json_text, strip_reasoning
from conftest import read_jsonl, run_button
from environment.arguments import argument_problems, coerce_arguments
from environment.controller import EnvironmentController
from environment.trajectory import Termination, Trajectory
from environment.verification import Verifier, default_checks
from fake_endpoint import LoopbackChatServer
from llm_role_responders import (
    SEQUENTIAL_TASK,
    SEQUENTIAL_TOOLS,
    AssistantScript,
    Calls,
    Final,
    Raw,
    Roles,
    UserScript,
    loopback_client,
    sequential_actions,
)
from misbehaviour import Misbehave
from scale_responders import PipelineResponder
from test_llm_conversations import assert_exports_strictly

MARKUP = ("<think", "</think>", "<tool_call", "[TOOL_CALLS]", "<|python_tag|>")
USER = UserScript("Hi! Could you find out when the author of The Great Gatsby was born?")

# --- the reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text", "reasoning"),
    [
        ("<think>plan it</think>\nThe answer.", "The answer.", "plan it"),
        ("plan it\n</think>\n\nThe answer.", "The answer.", "plan it"),
        ("The answer.<think>still thinking", "The answer.", "still thinking"),
        ("<THINKING>a</THINKING>b<think>c</think>", "b", "a\n\nc"),
        ("No reasoning here.", "No reasoning here.", ""),
    ],
)
def test_reasoning_is_set_aside(raw: str, text: str, reasoning: str) -> None:
    assert strip_reasoning(raw) == (text, reasoning)


@pytest.mark.parametrize(
    "raw",
    [
        'Let me look.\n<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>',
        '{"name": "f", "parameters": {"x": 1}}',
        '<|python_tag|>{"name": "f", "parameters": {"x": 1}}',
        'Let me look.[TOOL_CALLS][{"name": "f", "arguments": {"x": 1}}]',
        'Let me look.[TOOL_CALLS]f[ARGS]{"x": 1}',
        '<tool_call>{"name": "f", "arguments": "{\\"x\\": 1}"}</tool_call>',
    ],
)
def test_calls_written_as_text_become_calls(raw: str) -> None:
    rest, calls = calls_in_text(raw)
    assert [(call.name, json.loads(call.arguments)) for call in calls] == [("f", {"x": 1})]
    assert not any(mark in rest for mark in MARKUP) and rest in ("", "Let me look.")


@pytest.mark.parametrize("raw", ['<tool_call>{"name": "f", "arguments": {"x": </tool_call>', "[TOOL_CALLS] not json", '<tool_call>{"x": 1}</tool_call>'])
def test_unreadable_call_markup_is_an_error_not_an_answer(raw: str) -> None:
    with pytest.raises(CallMarkupError):
        calls_in_text(raw)


def test_prose_with_a_json_like_brace_is_not_a_call() -> None:
    assert calls_in_text('The set {"parameters"} is empty.') == ('The set {"parameters"} is empty.', [])


def test_call_ids_are_made_unique_across_the_conversation() -> None:
    ids = CallIds()
    first, changed = ids.repair([FunctionCall(id="call_1", name="f", arguments="{}"), FunctionCall(id="", name="f", arguments="{}")])
    assert [call.id for call in first] == ["call_1", "call_2"] and changed
    second, changed = ids.repair([FunctionCall(id="call_1", name="f", arguments="{}"), FunctionCall(id=None, name="g", arguments="{}")])  # type: ignore[arg-type]
    assert [call.id for call in second] == ["call_3", "call_4"] and changed
    kept, changed = ids.repair([FunctionCall(id="abc", name="f", arguments="{}")])
    assert [call.id for call in kept] == ["abc"] and not changed


@pytest.mark.parametrize(
    "raw",
    ['{"a": 1}', 'Here it is:\n```json\n{"a": 1}\n```\nDone.', "```\n{\"a\": 1}\n```", 'The result is {"a": 1} as asked.'],
)
def test_json_is_recovered_from_fences_and_prose(raw: str) -> None:
    assert json.loads(json_text(raw)) == {"a": 1}


PARAMETERS = {
    "type": "object",
    "properties": {"count": {"type": "integer"}, "price": {"type": "number"}, "open": {"type": "boolean"},
                   "zip": {"type": "string"}, "either": {"type": ["integer", "null"]}},
    "required": ["count"],
}


def test_exact_conversions_only() -> None:
    arguments = {"count": "5", "price": "2.50", "open": "TRUE", "zip": 10115, "either": "7"}
    fixed, count = coerce_arguments(PARAMETERS, arguments)
    assert fixed == {"count": 5, "price": 2.5, "open": True, "zip": "10115", "either": "7"} and count == 4
    assert coerce_arguments(PARAMETERS, {"count": "five", "price": "1e999"}) == ({"count": "five", "price": "1e999"}, 0)


def test_argument_problems_name_undeclared_missing_and_wrong_types() -> None:
    problems = argument_problems(PARAMETERS, {"count": "five", "verbose": True})
    assert problems[0].startswith("undeclared argument(s) verbose") and any("'five' is not of type 'integer'" in p for p in problems)
    assert any("'count' is a required property" in p for p in argument_problems(PARAMETERS, {}))
    assert argument_problems(PARAMETERS, {"count": 1}) == []


# --- whole conversations ---------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(Roles()) as running:
        yield running


async def converse(server: LoopbackChatServer, roles: Roles, protocol: str = "native", **settings: object) -> Trajectory:
    server.responder = roles
    client = loopback_client(server)
    controller = EnvironmentController(
        user=functools.partial(LLMUser, model_client=client),
        assistant=functools.partial(LLMAssistant, model_client=client),
        tool=functools.partial(LLMToolSimulator, model_client=client),
        protocol=protocol,  # type: ignore[arg-type]
        max_turns=8,
        **settings,  # type: ignore[arg-type]
    )
    return await Verifier(default_checks(8)).verify(await controller.run(SEQUENTIAL_TASK), SEQUENTIAL_TASK)


def assert_clean(trajectory: Trajectory) -> None:
    text = trajectory.model_dump_json(exclude={"messages": {"__all__": {"reasoning"}}})
    assert not any(mark in text for mark in MARKUP)
    ids = [call.id for call in trajectory.calls]
    assert all(ids) and len(set(ids)) == len(ids)
    assert [result.call_id for result in trajectory.results] == ids


@pytest.mark.parametrize("protocol", ["native", "tags"])
@pytest.mark.parametrize("behaviour", ["reasoning", "calls_in_text", "missing_id", "duplicate_id"])
async def test_repairable_behaviour_in_every_answer_still_keeps_clean_data(server, tmp_path: Path, protocol: str, behaviour: str) -> None:
    if protocol == "tags" and behaviour in ("missing_id", "duplicate_id"):
        pytest.skip("the tags protocol has no call ids; the reader numbers them")
    roles = Roles(
        user=Misbehave(USER, behaviour, rate=1.0),
        assistant=Misbehave(AssistantScript(sequential_actions()), behaviour, rate=1.0),
        tool=Misbehave(SEQUENTIAL_TOOLS, behaviour, rate=1.0),
    )
    trajectory = await converse(server, roles, protocol)
    assert trajectory.kept, (trajectory.reject_reason, trajectory.termination_detail)
    assert sum(player.played[behaviour] for player in (roles.user, roles.assistant, roles.tool)) >= 2  # both call turns at least
    assert_clean(trajectory)
    repair = {"reasoning": "reasoning_block", "calls_in_text": "calls_in_text"}.get(behaviour, "call_ids")
    assert trajectory.repairs.get(repair, 0) >= 1
    if behaviour == "reasoning":
        assert all(message.reasoning for message in trajectory.messages if message.role != "tool")
    assert_exports_strictly(trajectory, SEQUENTIAL_TASK, tmp_path)


BAD_CALLS = {
    "undeclared_key": {"title": "The Great Gatsby", "verbose": True},
    "missing_required": {},
    "wrong_type": {"title": ["The Great Gatsby"]},
}


@pytest.mark.parametrize("protocol", ["native", "tags"])
@pytest.mark.parametrize("problem", [*BAD_CALLS, "unknown_function"])
async def test_a_bad_call_is_answered_in_the_turn_and_only_the_correction_is_kept(server, protocol: str, problem: str) -> None:
    if problem == "unknown_function":
        bad = Calls(lambda r: [{"name": "search_web", "arguments": {"q": "gatsby"}}])
    else:
        bad = Calls(lambda r, arguments=BAD_CALLS[problem]: [{"name": "find_book_author", "arguments": arguments}])
    roles = Roles(user=USER, assistant=AssistantScript([bad, *sequential_actions()]), tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, roles, protocol)
    assert trajectory.kept, (trajectory.reject_reason, trajectory.termination_detail)
    assert trajectory.format_errors == 1
    assert [call.arguments for call in trajectory.calls][0] == {"title": "The Great Gatsby"}
    assert len(trajectory.calls) == 2
    retry = [r.body for r in server.requests if r.headers.get("X-Button-Role") == "assistant"][1]
    assert "Error:" in json.dumps(retry["messages"][-1])  # the assistant saw the failure as the call's result

    server.requests.clear()
    roles = Roles(user=USER, assistant=AssistantScript([bad, *sequential_actions()]), tool=SEQUENTIAL_TOOLS)
    recorded = await converse(server, roles, protocol, keep_recoveries=True)
    assert recorded.kept, (recorded.reject_reason, recorded.termination_detail)  # a recovery is training data
    tool_turns = [m for m in recorded.messages if m.role == "tool"]
    feedback = tool_turns[0].tool_results[0]
    assert feedback.feedback and feedback.error.startswith("Error:")
    assert sum(len(m.tool_calls) for m in recorded.messages) == 3 and len(recorded.calls) == 2  # the refused call was not run


async def test_exact_conversions_are_applied_and_counted(server) -> None:
    as_number = Calls(lambda r: [{"name": "find_book_author", "arguments": {"title": 1984}}])
    roles = Roles(user=USER, assistant=AssistantScript([as_number, *sequential_actions()[1:]]), tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, roles)
    assert trajectory.coercions == 1 and trajectory.format_errors == 0
    assert trajectory.calls[0].arguments == {"title": "1984"}


async def test_a_cut_off_or_empty_turn_is_retried_and_never_kept(server) -> None:
    cut = Raw(content="The author was born in Saint Pa", finish_reason="length")
    roles = Roles(user=USER, assistant=AssistantScript([cut, Raw(content=""), *sequential_actions()]), tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, roles)
    assert trajectory.kept and trajectory.format_errors == 2
    assert "Saint Pa" not in json.dumps([m.content for m in trajectory.messages])


async def test_a_user_cut_off_every_time_ends_as_truncated(server) -> None:
    roles = Roles(user=Misbehave(USER, "length", rate=1.0), assistant=AssistantScript(sequential_actions()), tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, roles)
    assert trajectory.termination is Termination.TRUNCATED and trajectory.reject_reason == "truncated"
    assert trajectory.messages == []


@pytest.mark.parametrize("behaviour", ["refusal", "empty"])
async def test_a_failing_tool_simulator_is_an_infrastructure_fault(server, behaviour: str) -> None:
    roles = Roles(user=USER, assistant=AssistantScript(sequential_actions()), tool=Misbehave(SEQUENTIAL_TOOLS, behaviour, rate=1.0))
    trajectory = await converse(server, roles)
    assert trajectory.termination is Termination.TOOL_SIMULATOR_FAILED and not trajectory.kept
    assert all(message.role != "tool" for message in trajectory.messages)  # never recorded as a result
    tool_asks = [r for r in server.requests if r.headers.get("X-Button-Role") == "tools"]
    assert len(tool_asks) == 3 and tool_asks[1].body["messages"][-1]["content"].startswith("You gave no answer")


async def test_a_refused_assistant_turn_is_read_as_a_refusal(server) -> None:
    refusing = Misbehave(AssistantScript([Final(lambda r: "He was born in 1896.")]), "refusal", rate=1.0)
    roles = Roles(user=USER, assistant=refusing, tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, roles)
    assert trajectory.termination is Termination.REFUSAL and trajectory.reject_reason == "refusal", trajectory.termination_detail


# --- the bottom-up phase ---------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", ["reasoning", "fences"])
def test_bottom_up_makes_tasks_with_the_behaviour_in_every_answer(tmp_path: Path, behaviour: str) -> None:
    with LoopbackChatServer(Misbehave(PipelineResponder(), behaviour, rate=1.0)) as running:
        run_dir = tmp_path / "run"
        result = run_button(
            "model=openai", f"model.base_url={running.base_url}", "model.name=fake", "model.api_key_env=null",
            "model.cache_dir=null", "num_tasks=3", f"hydra.run.dir={run_dir}",
        )
        played = running.responder.played[behaviour]  # type: ignore[attr-defined]
        askers = {request.headers.get("X-Button-Role") for request in running.requests}
    assert {"user", "assistant", "tools", "ExtractedScenario", "AtomicTaskDraft", "FunctionPlan"} <= askers
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert played > 10
    assert sum(task["kept"] for task in read_jsonl(run_dir / "tasks.jsonl")) == 3
    kept = [t for t in read_jsonl(run_dir / "trajectories.jsonl") if t["kept"]]
    assert kept and not any(mark in json.dumps(t["messages"]) for t in kept for mark in ("<think", "</think>", "```"))
