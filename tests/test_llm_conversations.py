"""Whole conversations with LLM roles: controller, verification, judge and exports, over loopback HTTP."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.llm import LLMAssistant, LLMToolSimulator, LLMUser
from agents.llm.prompting import render_prompt, subtask_plan
from fake_endpoint import LoopbackChatServer, Reply, chat_completion
from agents.offline.schema_tool import SchemaToolSimulator
from agents.offline.user import ScriptedUser
from agents.system_prompt import render_system_prompt
from composition.models import CompositionalTask
from environment.controller import EnvironmentController
from environment.export import ExportSet
from environment.export.validate import check_export_file
from environment.judge import LLMJudge
from environment.trajectory import Termination, Trajectory
from environment.verification import Verifier, default_checks
from llm_role_responders import (
    PARALLEL_TASK,
    SEQUENTIAL_TASK,
    SEQUENTIAL_TOOLS,
    Action,
    AssistantScript,
    Final,
    Raw,
    Roles,
    UserScript,
    loopback_client,
    one_call_per_turn_actions,
    parallel_actions,
    sequential_actions,
    weather_tools,
)

SEQUENTIAL_USER = UserScript("Hi! Could you find out when the author of The Great Gatsby was born?")
PARALLEL_USER = UserScript("Is it warmer in Lisbon or in Oslo right now? Then get me a flight from Berlin to the warmer one.")


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(Roles()) as running:
        yield running


def controller(server, protocol="native", parallel_calls=True, max_format_errors=2, tool=None, user=None):
    client = loopback_client(server)
    return EnvironmentController(
        user=user or functools.partial(LLMUser, model_client=client),
        assistant=functools.partial(LLMAssistant, model_client=client),
        tool=tool or functools.partial(LLMToolSimulator, model_client=client),
        protocol=protocol,
        parallel_calls=parallel_calls,
        max_turns=8,
        max_format_errors=max_format_errors,
    )


async def converse(server, task: CompositionalTask, roles: Roles, checks=None, **settings) -> Trajectory:
    server.responder = roles
    trajectory = await controller(server, **settings).run(task)
    return await Verifier(checks if checks is not None else default_checks(8)).verify(trajectory, task)


def assert_exports_strictly(trajectory: Trajectory, task: CompositionalTask, directory: Path) -> None:
    """All three formats read back cleanly and hold only the training view (no sub-task plan)."""
    with ExportSet(directory, ["button", "openai", "sharegpt"]) as exports:
        exports.write(trajectory)
    for name, filename in [("button", "button.jsonl"), ("openai", "openai.jsonl"), ("sharegpt", "sharegpt.jsonl")]:
        path = directory / "export" / filename
        report = check_export_file(path, name)
        assert report.ok, report.problems
        text = path.read_text()
        assert json.dumps(render_system_prompt("tags" if name == "button" else "native", trajectory.functions, trajectory.parallel_calls), ensure_ascii=False) in text
        assert json.dumps(PLAN_HEADING, ensure_ascii=False)[1:-1] not in text
        for atomic in task.atomic_tasks:
            assert json.dumps(atomic.text)[1:-1] not in text


PLAN_HEADING = render_prompt("assistant_plan", plan="").splitlines()[0]


def assistant_requests(server) -> list[dict]:
    return [r.body for r in server.requests if r.headers.get("X-Button-Role") == "assistant"]


def assert_assistant_saw_the_exported_prompt_and_the_plan(server, task: CompositionalTask, protocol: str, parallel: bool) -> None:
    """Generation shows the assistant exactly the exported system prompt, then the private plan."""
    shared = render_system_prompt(protocol, task.functions, parallel)
    plan = render_prompt("assistant_plan", plan=subtask_plan(task))
    for body in assistant_requests(server):
        assert body["messages"][0] == {"role": "system", "content": f"{shared}\n\n{plan}"}


def assert_user_never_saw_functions(server, task: CompositionalTask, protocol: str, parallel: bool) -> None:
    exported_prompt = render_system_prompt(protocol, task.functions, parallel)
    user_requests = [r.body for r in server.requests if r.headers.get("X-Button-Role") == "user"]
    assert user_requests
    for body in user_requests:
        text = json.dumps(body)
        assert "tools" not in body
        assert exported_prompt not in text and json.dumps(exported_prompt)[1:-1] not in text
        for spec in task.functions:
            assert spec.name not in text


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_sequential_task_is_kept_in_both_protocols(server, protocol, tmp_path):
    roles = Roles(user=SEQUENTIAL_USER, assistant=AssistantScript(sequential_actions()), tool=SEQUENTIAL_TOOLS)
    trajectory = await converse(server, SEQUENTIAL_TASK, roles, protocol=protocol)
    assert trajectory.termination == Termination.FINAL_ANSWER and trajectory.kept, trajectory.checks
    assert [m.role for m in trajectory.messages] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert trajectory.messages[3].tool_calls[0].arguments == {"name": "F. Scott Fitzgerald"}
    assert trajectory.messages[-1].content == "F. Scott Fitzgerald, the author of The Great Gatsby, was born on 1896-09-24."
    assert trajectory.usage["assistant"].requests == 3
    assert_exports_strictly(trajectory, SEQUENTIAL_TASK, tmp_path)
    assert_user_never_saw_functions(server, SEQUENTIAL_TASK, protocol, True)
    assert_assistant_saw_the_exported_prompt_and_the_plan(server, SEQUENTIAL_TASK, protocol, True)


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_parallel_calls_on_put_two_calls_in_one_turn(server, protocol, tmp_path):
    roles = Roles(user=PARALLEL_USER, assistant=AssistantScript(parallel_actions()), tool=weather_tools())
    trajectory = await converse(server, PARALLEL_TASK, roles, protocol=protocol)
    assert trajectory.kept, trajectory.checks
    assert [len(m.tool_calls) for m in trajectory.messages if m.tool_calls] == [2, 1]
    assert trajectory.calls[-1].arguments == {"destination": "Lisbon"}
    assistant_bodies = assistant_requests(server)
    if protocol == "native":
        assert all(body["parallel_tool_calls"] is True for body in assistant_bodies)
    assert_exports_strictly(trajectory, PARALLEL_TASK, tmp_path)


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_parallel_calls_off_turn_two_calls_into_a_format_error_then_recover(server, protocol, tmp_path):
    actions: list[Action] = [parallel_actions()[0], *one_call_per_turn_actions()]
    roles = Roles(user=PARALLEL_USER, assistant=AssistantScript(actions), tool=weather_tools())
    trajectory = await converse(server, PARALLEL_TASK, roles, protocol=protocol, parallel_calls=False)
    assert trajectory.kept, trajectory.checks
    assert trajectory.format_errors == 1
    assert [len(m.tool_calls) for m in trajectory.messages if m.tool_calls] == [1, 1, 1]
    assistant_bodies = assistant_requests(server)
    assert "(parallel_not_allowed)" in assistant_bodies[1]["messages"][-1]["content"]
    if protocol == "native":
        assert all(body["parallel_tool_calls"] is False for body in assistant_bodies)
    assert_exports_strictly(trajectory, PARALLEL_TASK, tmp_path)


BAD_TURNS = {
    "native": [
        Raw(tool_calls=[{"name": "search_web", "arguments": {"q": "gatsby"}}]),
        Raw(tool_calls=[{"name": "find_book_author", "arguments": '{"title": '}]),
        Raw(content=""),
        Raw(content="The author is F. Scott", finish_reason="length"),
    ],
    "tags": [
        Raw(content='<call>[{"name": "find_book_author", "arguments": {}}]</call> <final>done</final>'),
        Raw(content='<call>[{"name": "find_book_author", "arguments": {"title": }]</call>'),
        Raw(content=""),
        Raw(content='Looking it up. <call>[{"name": "search_web", "arguments": {}}]</call>'),
        Raw(content="F. Scott Fitzgerald wrote it."),
    ],
}


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_misbehaving_turns_are_fed_back_and_past_the_limit_end_the_conversation(server, protocol):
    bad = BAD_TURNS[protocol]
    recovering = Roles(
        user=SEQUENTIAL_USER, assistant=AssistantScript([bad[0], bad[1], *sequential_actions()]), tool=SEQUENTIAL_TOOLS
    )
    kept = await converse(server, SEQUENTIAL_TASK, recovering, protocol=protocol)
    assert kept.kept and kept.format_errors == 2, (kept.reject_reason, kept.termination_detail, kept.checks)
    assert [m.role for m in kept.messages] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]

    server.requests.clear()
    failing = Roles(user=SEQUENTIAL_USER, assistant=AssistantScript(bad), tool=SEQUENTIAL_TOOLS)
    ended = await converse(server, SEQUENTIAL_TASK, failing, protocol=protocol, max_format_errors=len(bad) - 1)
    # the last failed attempt names the end: a cut-off turn ends as truncated, never kept
    expected = Termination.TRUNCATED if protocol == "native" else Termination.FORMAT_ERRORS
    assert ended.termination == expected and ended.reject_reason == expected.value
    assert [m.role for m in ended.messages] == ["user"]


async def test_llm_assistant_with_the_schema_tool_simulator_and_scripted_user(server, tmp_path):
    roles = Roles(assistant=AssistantScript(sequential_actions()))
    server.responder = roles
    mixed = controller(server, tool=SchemaToolSimulator, user=ScriptedUser)
    trajectory = await Verifier(default_checks(8)).verify(await mixed.run(SEQUENTIAL_TASK), SEQUENTIAL_TASK)
    assert trajectory.kept, trajectory.checks
    author = trajectory.results[0].results["author"]
    assert trajectory.calls[1].arguments == {"name": author}
    assert {r.headers.get("X-Button-Role") for r in server.requests} == {"assistant"}  # only the assistant asked a model
    assert_exports_strictly(trajectory, SEQUENTIAL_TASK, tmp_path)


def judge_says(passed: bool):
    def respond(body):
        assert body["response_format"]["json_schema"]["name"] == "Verdict"
        assert "F. Scott Fitzgerald" in body["messages"][0]["content"]
        return Reply(chat_completion(json.dumps({"passed": passed, "reason": "checked the birth date"})))

    return respond


@pytest.mark.parametrize(
    ("judge", "kept", "reason"),
    [
        (judge_says(True), True, None),
        (judge_says(False), False, "judge_rejected"),
        (lambda body: Reply({"error": {"message": "down"}}, status=500), False, "judge_error"),
    ],
)
async def test_the_optional_judge_is_recorded_in_checks(server, judge, kept, reason):
    roles = Roles(user=SEQUENTIAL_USER, assistant=AssistantScript(sequential_actions()), tool=SEQUENTIAL_TOOLS, judge=judge)
    checks = [*default_checks(8), LLMJudge(loopback_client(server))]
    trajectory = await converse(server, SEQUENTIAL_TASK, roles, checks=checks)
    verdict = trajectory.checks[-1]
    assert verdict.name == "llm_judge" and verdict.passed is kept
    assert trajectory.kept is kept and trajectory.reject_reason == reason


async def test_the_judge_spends_no_request_on_a_rejected_trajectory(server):
    roles = Roles(user=SEQUENTIAL_USER, assistant=AssistantScript([Final(lambda r: "No idea, sorry.")]), judge=judge_says(True))
    checks = [*default_checks(8), LLMJudge(loopback_client(server))]
    trajectory = await converse(server, SEQUENTIAL_TASK, roles, checks=checks)
    assert trajectory.reject_reason == "missing_call"
    assert all("llm_judge" != check.name for check in trajectory.checks)
