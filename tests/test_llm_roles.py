"""The LLM roles one turn at a time, against a loopback HTTP server through the real AutoGen client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken, FunctionCall

from agents.context import ConversationContext
from agents.llm import LLMAssistant, LLMToolSimulator, LLMUser
from agents.base import UnusableAnswer
from agents.llm.prompting import RoleModelError
from fake_endpoint import LoopbackChatServer, Reply
from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage, FunctionResultMessage
from composition.schemas import validation_errors
from llm_role_responders import (
    PARALLEL_TASK,
    SEQUENTIAL_TASK,
    Action,
    AssistantScript,
    Ask,
    Calls,
    Final,
    Raw,
    Roles,
    ToolScript,
    UserScript,
    loopback_client,
    parallel_actions,
    weather_tools,
)

TOKEN = CancellationToken()


@pytest.fixture
def server() -> Iterator[LoopbackChatServer]:
    with LoopbackChatServer(Roles()) as running:
        yield running


def context(task=SEQUENTIAL_TASK, protocol="native", parallel_calls=True) -> ConversationContext:
    return ConversationContext(task=task, protocol=protocol, parallel_calls=parallel_calls)


def call_message(*calls: tuple[str, dict]) -> FunctionCallMessage:
    content = [FunctionCall(id=f"c{i}", name=name, arguments=json.dumps(args)) for i, (name, args) in enumerate(calls)]
    return FunctionCallMessage(content=content, source="assistant")


# --- user -----------------------------------------------------------------------------------------


async def test_user_opens_from_the_task_only_and_answers_questions(server):
    server.responder = Roles(user=UserScript("When was the author of The Great Gatsby born?", ["The novel from 1925."]))
    user = LLMUser(context(), loopback_client(server))
    opening = await user.on_messages([], TOKEN)
    assert opening.chat_message.content == "When was the author of The Great Gatsby born?"
    answer = await user.on_messages([TextMessage(content="Which edition do you mean?", source="assistant")], TOKEN)
    assert answer.chat_message.content == "The novel from 1925."

    first, second = (request.body for request in server.requests)
    assert "tools" not in first and "tools" not in second
    prompt = json.dumps(second["messages"])
    assert SEQUENTIAL_TASK.text in prompt and "The Great Gatsby" in prompt
    assert "Who wrote The Great Gatsby?" not in prompt  # the sub-tasks' values, never the sub-tasks
    for spec in SEQUENTIAL_TASK.functions:
        assert spec.name not in prompt
    assert ["system", "user", "assistant", "user"] == [m["role"] for m in second["messages"]]
    assert second["messages"][-1]["content"] == "Which edition do you mean?"


async def test_user_with_empty_replies_is_asked_again_then_gives_up(server):
    server.responder = Roles(user=UserScript(""))
    with pytest.raises(UnusableAnswer, match="empty") as raised:
        await LLMUser(context(), loopback_client(server)).on_messages([], TOKEN)
    assert raised.value.reason == "empty_answer" and len(server.requests) == 3
    assert all(request.headers.get("X-Button-Role") == "user" for request in server.requests)


# --- assistant ------------------------------------------------------------------------------------


async def run_assistant(server, actions: list[Action], ctx: ConversationContext, feed=None):
    """One assistant turn per action; ``feed`` supplies what the assistant hears before each turn."""
    server.responder = Roles(assistant=AssistantScript(actions))
    assistant = LLMAssistant(ctx, loopback_client(server))
    replies = [(await assistant.on_messages([TextMessage(content=ctx.task.text, source="user")], TOKEN)).chat_message]
    for _ in actions[1:]:
        heard = feed(replies[-1]) if feed else [TextMessage(content="Go on.", source="user")]
        replies.append((await assistant.on_messages(heard, TOKEN)).chat_message)
    return replies


def weather_results(reply: FunctionCallMessage) -> list[FunctionResultMessage]:
    tool = weather_tools()
    results = []
    for call in reply.content:
        args = json.loads(call.arguments)
        content = json.dumps(tool.answers[call.name](args))
        results.append({"content": content, "name": call.name, "call_id": call.id, "is_error": False})
    return [FunctionResultMessage.model_validate({"content": results, "source": "tools"})]


def feed_results(reply):
    if isinstance(reply, FunctionCallMessage):
        return weather_results(reply)
    return [TextMessage(content=reply.content, source="environment")]


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_assistant_parallel_turn_then_sequential_call_then_final(server, protocol):
    replies = await run_assistant(server, parallel_actions(), context(PARALLEL_TASK, protocol), feed_results)
    first, second, final = replies
    assert isinstance(first, FunctionCallMessage) and [c.name for c in first.content] == ["get_current_weather"] * 2
    assert first.thought == "The two cities are independent."
    assert isinstance(second, FunctionCallMessage)
    assert json.loads(second.content[0].arguments) == {"destination": "Lisbon"}
    assert isinstance(final, FinalAnswerMessage) and final.content.startswith("Lisbon is warmer")

    bodies = [request.body for request in server.requests]
    system = bodies[0]["messages"][0]["content"]
    assert "What is the weather in Oslo right now?" in system  # the generation-time plan
    if protocol == "native":
        assert all(body["parallel_tool_calls"] is True for body in bodies)
        assert [tool["function"]["name"] for tool in bodies[0]["tools"]] == ["get_current_weather", "find_flight"]
        assert [m["role"] for m in bodies[1]["messages"]][-3:] == ["assistant", "tool", "tool"]
    else:
        assert all("tools" not in body and "parallel_tool_calls" not in body for body in bodies)
        assert '"name": "find_flight"' in system and "<call>" in system
        results = json.loads(bodies[1]["messages"][-1]["content"])
        assert [r["arguments"]["city"] for r in results] == ["Lisbon", "Oslo"]
        assert [c.id for c in first.content] == ["call_1", "call_2"]


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_two_calls_with_parallel_off_are_a_format_error(server, protocol):
    (reply,) = await run_assistant(server, parallel_actions()[:1], context(PARALLEL_TASK, protocol, parallel_calls=False))
    assert isinstance(reply, FormatErrorMessage) and reply.metadata["code"] == "parallel_not_allowed"
    if protocol == "native":
        assert server.requests[0].body["parallel_tool_calls"] is False
    assert "exactly one function call per turn" in server.requests[0].body["messages"][0]["content"]


MISBEHAVIOUR = {  # unknown functions and schema-breaking arguments: tests/test_misbehaviour.py
    "invalid_arguments": Raw(tool_calls=[{"name": "find_book_author", "arguments": '{"title": "The Great'}]),
    "empty_turn": Raw(content=""),
    "truncated": Raw(content="The author of The Great Gatsby is F. Scott", finish_reason="length"),
}
TAGS_ONLY = {
    "call_and_final": Raw(content='<call>[{"name": "find_book_author", "arguments": {}}]</call><final>x</final>'),
    "invalid_json": Raw(content='<call>[{"name": "find_book_author", "arguments": {"title": }]</call>'),
    "no_tag": Raw(content="F. Scott Fitzgerald wrote it."),
}


@pytest.mark.parametrize(
    ("protocol", "code"),
    [("native", code) for code in MISBEHAVIOUR] + [("tags", code) for code in [*MISBEHAVIOUR, *TAGS_ONLY]],
)
async def test_misbehaving_turn_is_a_format_error_then_the_feedback_leads_to_recovery(server, protocol, code):
    bad = {**MISBEHAVIOUR, **TAGS_ONLY}[code]
    if protocol == "tags" and code == "invalid_arguments":
        bad = Raw(content='<call>[{"name": "find_book_author", "arguments": "The Great Gatsby"}]</call>')
        code = "bad_arguments"
    recover = Calls(lambda r: [{"name": "find_book_author", "arguments": {"title": "The Great Gatsby"}}])
    bad_reply, good_reply = await run_assistant(server, [bad, recover], context(protocol=protocol), feed_results)
    assert isinstance(bad_reply, FormatErrorMessage)
    assert bad_reply.metadata["code"] == code
    assert isinstance(good_reply, FunctionCallMessage)
    retry_messages = server.requests[1].body["messages"]
    assert retry_messages[-1]["content"] == bad_reply.content  # the error was fed back
    assert retry_messages[-2]["role"] == "assistant" and "tool_calls" not in retry_messages[-2]


@pytest.mark.parametrize("protocol", ["native", "tags"])
async def test_a_question_goes_to_the_user_and_a_plain_reply_ends(server, protocol):
    actions = [Ask("Which edition do you mean?"), Final(lambda r: "He was born on 24 September 1896.")]
    question, final = await run_assistant(server, actions, context(protocol=protocol))
    assert type(question) is TextMessage and question.content == "Which edition do you mean?"
    assert isinstance(final, FinalAnswerMessage) and final.content == "He was born on 24 September 1896."


async def test_an_endpoint_failure_raises_a_role_error(server):
    server.responder = lambda body: Reply({"error": {"message": "overloaded"}}, status=503)
    assistant = LLMAssistant(context(), loopback_client(server))
    with pytest.raises(RoleModelError, match="assistant: model request failed"):
        await assistant.on_messages([TextMessage(content="hi", source="user")], TOKEN)


# --- tool simulator -------------------------------------------------------------------------------


@pytest.mark.parametrize("structured", [True, False])
async def test_tool_results_validate_and_repeat_for_identical_calls(server, structured):
    tools = weather_tools()
    server.responder = Roles(tool=tools)
    simulator = LLMToolSimulator(context(PARALLEL_TASK), loopback_client(server, structured_output=structured))
    message = call_message(("get_current_weather", {"city": "Oslo"}), ("get_current_weather", {"city": "Lisbon"}))
    first = (await simulator.on_messages([message], TOKEN)).chat_message
    assert [r.call_id for r in first.content] == ["c0", "c1"]
    assert [json.loads(r.content)["city"] for r in first.content] == ["Oslo", "Lisbon"]
    for result in first.content:
        assert not result.is_error
        assert validation_errors(PARALLEL_TASK.functions[0].responses, json.loads(result.content)) == []
    again = (await simulator.on_messages([call_message(("get_current_weather", {"city": "Oslo"}))], TOKEN)).chat_message
    assert again.content[0].content == first.content[0].content
    assert len(server.requests) == 2  # the repeat came from the conversation's memory

    body = server.requests[0].body
    if structured:
        assert body["response_format"]["json_schema"]["schema"] == PARALLEL_TASK.functions[0].responses
    else:
        assert body.get("response_format", {}).get("type") != "json_schema"
    assert PARALLEL_TASK.text in body["messages"][0]["content"]


async def test_tool_retries_unusable_answers_then_fails_as_infrastructure(server):
    tools = weather_tools()
    tools.bad_first = 1
    server.responder = Roles(tool=tools)
    simulator = LLMToolSimulator(context(PARALLEL_TASK), loopback_client(server), retries=1)
    (result,) = (await simulator.on_messages([call_message(("get_current_weather", {"city": "Oslo"}))], TOKEN)).chat_message.content
    assert not result.is_error and json.loads(result.content)["temperature_c"] == 4.0
    assert len(server.requests) == 2

    broken = ToolScript({"get_current_weather": lambda a: {"city": a["city"], "temperature_c": "warm"}})
    server.responder = Roles(tool=broken)
    simulator = LLMToolSimulator(context(PARALLEL_TASK), loopback_client(server), retries=1)
    oslo = call_message(("get_current_weather", {"city": "Oslo"}))
    with pytest.raises(UnusableAnswer, match="schema_mismatch") as raised:
        await simulator.on_messages([oslo], TOKEN)
    assert raised.value.reason == "tool_simulator_failed" and broken.served == 2

    server.responder = Roles(tool=weather_tools())  # the failure was not remembered: asked afresh
    (result,) = (await simulator.on_messages([oslo], TOKEN)).chat_message.content
    assert not result.is_error and json.loads(result.content)["temperature_c"] == 4.0


async def test_tool_answers_unknown_functions_and_bad_arguments_without_asking(server):
    server.responder = Roles(tool=weather_tools())
    simulator = LLMToolSimulator(context(PARALLEL_TASK), loopback_client(server))
    message = call_message(("launch_rocket", {}), ("get_current_weather", {"town": "Oslo"}))
    unknown, invalid = (await simulator.on_messages([message], TOKEN)).chat_message.content
    assert unknown.is_error and "unknown function" in unknown.content
    assert invalid.is_error and "invalid arguments" in invalid.content
    assert server.requests == []
