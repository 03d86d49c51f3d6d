"""AutoGen's contract: after ``team.reset()`` every role starts its next run as a fresh one."""

from __future__ import annotations

import json

from autogen_agentchat.conditions import FunctionalTermination
from autogen_agentchat.messages import TextMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken

from agents.context import ConversationContext
from agents.llm import LLMAssistant, LLMToolSimulator
from agents.messages import ROLE_MESSAGE_TYPES, FinalAnswerMessage
from agents.offline.oracle import OracleAssistant
from agents.offline.schema_tool import SchemaToolSimulator
from agents.offline.user import ScriptedUser
from fake_endpoint import LoopbackChatServer
from llm_role_responders import SEQUENTIAL_TASK, SEQUENTIAL_TOOLS, AssistantScript, Roles, loopback_client, sequential_actions
from test_offline_roles import parallel_then_sequential_task

EXPECTED = ["TextMessage", "FunctionCallMessage", "FunctionResultMessage", "FunctionCallMessage", "FunctionResultMessage", "FinalAnswerMessage"]


def _team(assistant, tool) -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        [assistant, tool],
        termination_condition=FunctionalTermination(lambda messages: any(isinstance(m, FinalAnswerMessage) for m in messages)),
        custom_message_types=ROLE_MESSAGE_TYPES,
        max_turns=10,
    )


async def _twice(team: RoundRobinGroupChat, opening: TextMessage) -> tuple[list, list]:
    first = await team.run(task=opening)
    await team.reset()
    second = await team.run(task=opening)
    return first.messages, second.messages


async def test_offline_roles_run_again_after_a_team_reset() -> None:
    ctx = ConversationContext(task=parallel_then_sequential_task(), parallel_calls=True, seed=2)
    user = ScriptedUser(ctx)
    opening = (await user.on_messages([], CancellationToken())).chat_message
    first, second = await _twice(_team(OracleAssistant(ctx), SchemaToolSimulator(ctx)), opening)
    assert [type(m).__name__ for m in first] == [type(m).__name__ for m in second] == EXPECTED
    assert [m.content for m in first[1:]] == [m.content for m in second[1:]]
    await user.on_reset(CancellationToken())
    assert (await user.on_messages([], CancellationToken())).chat_message.content == opening.content  # opens again


async def test_llm_roles_run_again_after_a_team_reset() -> None:
    ctx = ConversationContext(task=SEQUENTIAL_TASK)
    with LoopbackChatServer(Roles(assistant=AssistantScript(sequential_actions()), tool=SEQUENTIAL_TOOLS)) as server:
        client = loopback_client(server)
        opening = TextMessage(content="When was the author of The Great Gatsby born?", source="user")
        first, second = await _twice(_team(LLMAssistant(ctx, client), LLMToolSimulator(ctx, client)), opening)
        assistant_asks = [r.body for r in server.requests if r.headers.get("X-Button-Role") == "assistant"]
    assert [type(m).__name__ for m in first] == [type(m).__name__ for m in second] == EXPECTED
    assert [json.loads(call.arguments) for call in second[3].content] == [{"name": "F. Scott Fitzgerald"}]
    # the second run's first request starts from the system prompt and the opening alone
    assert [m["role"] for m in assistant_asks[3]["messages"]] == ["system", "user"]
