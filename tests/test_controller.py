"""The environment controller end to end with the offline roles and hand-built tasks."""

from __future__ import annotations

import re

import functools
import json
from collections.abc import Sequence

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken
from autogen_core.models import RequestUsage

from agents.base import AssistantRole
from agents.context import ConversationContext
from agents.messages import FinalAnswerMessage, FormatErrorMessage
from agents.offline import OracleAssistant, SchemaToolSimulator, ScriptedUser
from environment.controller import ENVIRONMENT, EnvironmentController
from environment.trajectory import Termination
from task_factory import comparison_task, parallel_then_sequential_task, reasoning_task, sequential_task, unplanned_task


def controller(assistant=OracleAssistant, **settings) -> EnvironmentController:
    return EnvironmentController(ScriptedUser, assistant, SchemaToolSimulator, **settings)


async def test_sequential_chain_passes_the_producers_result_to_the_consumer() -> None:
    trajectory = await controller().run(sequential_task())
    assert trajectory.termination is Termination.FINAL_ANSWER
    assert [m.role for m in trajectory.messages] == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    author = trajectory.messages[2].tool_results[0].results["author"]
    consumer = trajectory.messages[3].tool_calls[0]
    assert consumer.name == "get_birth_date" and consumer.arguments == {"person": author}
    assert trajectory.messages[-1].final and author in trajectory.messages[-1].content
    assert sequential_task().text[1:] in trajectory.messages[0].content  # framed, maybe lower-cased first


async def test_parallel_calls_on_puts_independent_calls_in_one_turn() -> None:
    trajectory = await controller(parallel_calls=True).run(parallel_then_sequential_task())
    sizes = [len(m.tool_calls) for m in trajectory.messages if m.tool_calls]
    assert sizes == [2, 1]
    tool_turn = trajectory.messages[2]
    assert [r.call_id for r in tool_turn.tool_results] == [c.id for c in trajectory.messages[1].tool_calls]
    capitals = [r.results["capital"] for r in tool_turn.tool_results]
    assert trajectory.messages[3].tool_calls[0].arguments == {"origin": capitals[0], "destination": capitals[1]}
    assert trajectory.parallel_calls


async def test_parallel_calls_off_makes_one_call_per_turn() -> None:
    trajectory = await controller(parallel_calls=False).run(parallel_then_sequential_task())
    sizes = [len(m.tool_calls) for m in trajectory.messages if m.tool_calls]
    assert sizes == [1, 1, 1]
    assert not trajectory.parallel_calls
    assert trajectory.termination is Termination.FINAL_ANSWER


async def test_reasoning_step_needs_no_call_and_answers_from_the_results() -> None:
    trajectory = await controller().run(reasoning_task())
    assert {c.name for c in trajectory.calls} == {"get_weather"}
    oslo, lisbon = (r.results["temperature"] for r in trajectory.results)
    difference = round(lisbon - oslo, 4)
    size = abs(int(difference) if difference == int(difference) else difference)
    final = trajectory.messages[-1].content
    assert str(size) in final and f"-{size}" not in final  # the size, with the sign said in words
    higher, lower = ("Lisbon", "Oslo") if difference > 0 else ("Oslo", "Lisbon")
    if " lower than " in final:
        assert lower in final.split(" lower than ")[0] and higher not in final.split(" lower than ")[0], final
    elif " higher than " in final:
        assert higher in final.split(" higher than ")[0] and lower not in final.split(" higher than ")[0], final
    else:
        assert f"in {higher} is the higher" in final, final


async def test_a_picking_step_is_answered_with_what_it_picked_not_the_input_name() -> None:
    trajectory = await controller(seed=1).run(comparison_task())
    oslo, lisbon = (r.results["temperature"] for r in trajectory.results)
    warmer = "Lisbon" if lisbon > oslo else "Oslo"
    final = trajectory.messages[-1].content
    assert f"the temperature in {warmer}".lower() in final.lower() and str(max(oslo, lisbon)) in final
    assert not re.search(r"\b[ab]\b", final), final  # the input's name never stands for its value


async def test_max_turns_cuts_the_conversation_off() -> None:
    trajectory = await controller(max_turns=2).run(sequential_task())
    assert trajectory.termination is Termination.MAX_TURNS
    assert sum(m.role == "assistant" for m in trajectory.messages) == 2
    assert not any(m.final for m in trajectory.messages)


class StumblingAssistant(AssistantRole):
    """Breaks the protocol ``errors`` times, then answers; remembers what it was told."""

    def __init__(self, context: ConversationContext, errors: int = 1) -> None:
        super().__init__(context)
        self.errors = errors
        self.heard: list[BaseChatMessage] = []

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        self.heard.extend(messages)
        usage = RequestUsage(prompt_tokens=7, completion_tokens=3)
        if self.errors > 0:
            self.errors -= 1
            return Response(chat_message=FormatErrorMessage(
                content="the <call> list is not valid JSON.", raw="<call>[{</call>", source=self.name, models_usage=usage))
        feedback = [m.content for m in self.heard if isinstance(m, TextMessage) and m.source == ENVIRONMENT]
        return Response(chat_message=FinalAnswerMessage(
            content=f"done after {len(feedback)} corrections", source=self.name, models_usage=usage,
            metadata={"model": "tiny-model"}))


async def test_format_errors_are_fed_back_and_not_recorded() -> None:
    trajectory = await controller(functools.partial(StumblingAssistant, errors=2), max_format_errors=2).run(sequential_task())
    assert trajectory.termination is Termination.FINAL_ANSWER
    assert trajectory.format_errors == 2
    assert [m.role for m in trajectory.messages] == ["user", "assistant"]
    assert trajectory.messages[-1].content == "done after 2 corrections"
    assert trajectory.usage["assistant"].requests == 2 and trajectory.usage["assistant"].prompt_tokens == 14
    assert trajectory.usage["tiny-model"].requests == 1 and trajectory.usage["tiny-model"].completion_tokens == 3


async def test_too_many_format_errors_end_the_conversation() -> None:
    trajectory = await controller(functools.partial(StumblingAssistant, errors=5), max_format_errors=2).run(sequential_task())
    assert trajectory.termination is Termination.FORMAT_ERRORS
    assert trajectory.format_errors == 3
    assert "not valid JSON" in trajectory.termination_detail
    assert [m.role for m in trajectory.messages] == ["user"]


async def test_a_failing_role_ends_as_agent_error_without_crashing() -> None:
    trajectory = await controller().run(unplanned_task())
    assert trajectory.termination is Termination.AGENT_ERROR
    assert trajectory.termination_detail.startswith("assistant: PlanError")

    def broken_tool(context: ConversationContext) -> SchemaToolSimulator:
        raise RuntimeError("simulator offline")

    broken = await EnvironmentController(ScriptedUser, OracleAssistant, broken_tool).run(sequential_task())
    assert broken.termination is Termination.AGENT_ERROR
    assert broken.termination_detail == "tool: RuntimeError: simulator offline"


async def test_same_seed_gives_identical_trajectories_and_other_settings_other_ids() -> None:
    task = parallel_then_sequential_task()
    first = await controller(seed=4).run(task)
    again = await controller(seed=4).run(task)
    assert first.model_dump_json() == again.model_dump_json()
    assert "timings" not in json.loads(first.model_dump_json()) and first.timings["total"] > 0
    other_seed = await controller(seed=5).run(task)
    assert other_seed.id != first.id and other_seed.messages != first.messages
    assert (await controller(seed=4, parallel_calls=False).run(task)).id != first.id


async def test_timed_out_record_names_the_limit() -> None:
    record = controller().timed_out(sequential_task(), 30)
    assert record.termination is Termination.TIMEOUT and "30 s" in record.termination_detail
    assert record.id == (await controller().run(sequential_task())).id
