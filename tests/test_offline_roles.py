"""The offline roles on their own: the scripted user, the oracle and the schema tool simulator."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from autogen_agentchat.conditions import FunctionalTermination
from autogen_agentchat.messages import TextMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken, FunctionCall
from jsonschema import Draft202012Validator

from agents.context import ConversationContext
from agents.messages import ROLE_MESSAGE_TYPES, FinalAnswerMessage, FunctionCallMessage, FunctionResultMessage
from agents.offline import OracleAssistant, PlanError, SchemaToolSimulator, ScriptedUser
from agents.offline.values import CITIES, generate_value
from composition.models import FunctionSpec
from task_factory import BOOK_AUTHOR, compose, parallel_then_sequential_task, sequential_task, unplanned_task

TOKEN = CancellationToken()


def context(task=None, **settings: Any) -> ConversationContext:
    return ConversationContext(task=task or sequential_task(), **settings)


def calls(*pairs: tuple[str, dict[str, Any]]) -> FunctionCallMessage:
    return FunctionCallMessage(
        content=[FunctionCall(id=f"c{i}", name=name, arguments=json.dumps(args)) for i, (name, args) in enumerate(pairs)],
        source="assistant",
    )


async def test_user_opens_with_the_task_and_answers_questions_from_it() -> None:
    task = compose(
        "I fly to Oslo on May 3. Please find me a hotel near the station.",
        "sequential",
        sequential_task().atomic_tasks,
        [(0, 1)],
    )
    user = ScriptedUser(context(task, seed=3))
    opening = (await user.on_messages([], TOKEN)).chat_message
    assert isinstance(opening, TextMessage)
    assert task.text[1:] in opening.content  # framed, the first letter maybe lower-cased
    question = TextMessage(content="Which day do you fly, and to which city?", source="assistant")
    answer = (await user.on_messages([question], TOKEN)).chat_message
    assert "I fly to Oslo on May 3." in answer.content
    assert "hotel" not in answer.content
    assert "get_" not in opening.content + answer.content  # never sees the functions


async def test_user_opening_is_deterministic_per_seed_and_varies_across_seeds() -> None:
    async def opening(seed: int) -> str:
        return (await ScriptedUser(context(seed=seed)).on_messages([], TOKEN)).chat_message.content

    assert await opening(1) == await opening(1)
    assert len({await opening(seed) for seed in range(12)}) > 1


async def test_oracle_issues_parallel_calls_only_when_allowed() -> None:
    task = parallel_then_sequential_task()
    for parallel, expected in ((True, 2), (False, 1)):
        oracle = OracleAssistant(context(task, parallel_calls=parallel))
        first = (await oracle.on_messages([TextMessage(content=task.text, source="user")], TOKEN)).chat_message
        assert isinstance(first, FunctionCallMessage)
        assert len(first.content) == expected
        assert [c.name for c in first.content] == ["get_capital"] * expected
        assert first.thought and "get_capital" not in first.thought


async def test_oracle_binds_arguments_to_actual_results_and_ends_with_an_answer() -> None:
    oracle = OracleAssistant(context())
    tool = SchemaToolSimulator(context())
    opening = TextMessage(content=context().task.text, source="user")  # a user who said what the plan needs
    call = (await oracle.on_messages([opening], TOKEN)).chat_message
    result = (await tool.on_messages([call], TOKEN)).chat_message
    author = json.loads(result.content[0].content)["author"]
    second = (await oracle.on_messages([result], TOKEN)).chat_message
    assert json.loads(second.content[0].arguments) == {"person": author}
    assert second.content[0].id != call.content[0].id
    final = (await oracle.on_messages([(await tool.on_messages([second], TOKEN)).chat_message], TOKEN)).chat_message
    assert isinstance(final, FinalAnswerMessage)
    assert author in final.content


async def test_oracle_refuses_tasks_without_gold_steps() -> None:
    with pytest.raises(PlanError, match="gold step"):
        await OracleAssistant(context(unplanned_task())).on_messages([], TOKEN)


async def test_tool_is_consistent_and_echoes_fitting_arguments() -> None:
    tool = SchemaToolSimulator(context(seed=5))
    first = (await tool.on_messages([calls(("get_book_author", {"title": "Emma"}))], TOKEN)).chat_message
    again = (await tool.on_messages([calls(("get_book_author", {"title": "Emma"}))], TOKEN)).chat_message
    other = (await SchemaToolSimulator(context(seed=6)).on_messages(
        [calls(("get_book_author", {"title": "Emma"}))], TOKEN)).chat_message
    assert first.content[0].content == again.content[0].content
    assert first.content[0].content == other.content[0].content  # a call answers the same under every seed
    results = json.loads(first.content[0].content)
    assert results["title"] == "Emma"
    assert Draft202012Validator(BOOK_AUTHOR.responses).is_valid(results)


async def test_tool_answers_each_call_and_reports_bad_ones_as_errors() -> None:
    tool = SchemaToolSimulator(context())
    message = calls(("get_book_author", {"title": "Dune"}), ("launch_rocket", {}), ("get_birth_date", {"who": 1}))
    answer = (await tool.on_messages([message], TOKEN)).chat_message
    assert isinstance(answer, FunctionResultMessage)
    assert [r.call_id for r in answer.content] == ["c0", "c1", "c2"]
    assert [r.is_error for r in answer.content] == [False, True, True]
    assert "unknown function 'launch_rocket'" in answer.content[1].content
    assert "invalid arguments" in answer.content[2].content and "person" in answer.content[2].content


PATTERNS = [
    r"^[A-Z]{1,5}$",
    r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
    r"^\d{3}-\w+$",
    r"^(ab|cd)+\1?x*$",
    r"[^a-z]{2}",
    r"^ISBN [0-9]{9}[0-9X]$",
    r"^[A-Z]{2}\d{2}( ?[A-Z0-9]{4})*$",
]


def random_schema(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    """A random JSON Schema using the keywords the generator claims to honour."""
    kinds = ["string", "integer", "number", "boolean", "enum"] + (["object", "array"] if depth < 3 else [])
    kind = rng.choice(kinds)
    if kind == "string":
        schema: dict[str, Any] = {"type": "string"}
        if rng.random() < 0.4:  # a format, or lengths (the generator applies lengths to free text)
            schema["format"] = rng.choice(["date", "date-time", "email", "uri", "uuid", "ipv4"])
        elif rng.random() < 0.3:
            schema["pattern"] = rng.choice(PATTERNS)
        elif rng.random() < 0.5:
            schema["minLength"] = rng.randint(0, 12)
            schema["maxLength"] = schema["minLength"] + rng.randint(0, 6)
        return schema
    if kind in ("integer", "number"):
        schema = {"type": kind}
        step = rng.choice([None, None, None, 1, 5, 0.5, 0.25])
        low = rng.choice([None, -50, 0, 3, 1000])
        if low is not None:
            schema[rng.choice(["minimum", "exclusiveMinimum"])] = low
        if rng.random() < 0.5:  # ranges wide enough to hold a multiple of the step: satisfiable
            schema[rng.choice(["maximum", "exclusiveMaximum"])] = (low or 0) + rng.choice([7, 500] if step else [2, 7, 500])
        if step:
            schema["multipleOf"] = step
        return schema
    if kind == "boolean":
        return {"type": rng.choice(["boolean", ["boolean", "null"]])}
    if kind == "enum":
        return {"enum": rng.sample(["red", "green", 3, None, "blue", 7.5], rng.randint(1, 4))}
    if kind == "array":
        schema = {"type": "array", "items": random_schema(rng, depth + 1)}
        if rng.random() < 0.5:
            schema["minItems"] = rng.randint(0, 3)
            schema["maxItems"] = schema["minItems"] + rng.randint(0, 3)
        return schema
    names = rng.sample(["name", "city", "price", "birth_date", "rating", "tags", "email", "year", "id", "items", "x"], rng.randint(1, 5))
    properties = {name: random_schema(rng, depth + 1) for name in names}
    return {
        "type": "object",
        "properties": properties,
        "required": rng.sample(names, rng.randint(0, len(names))),
        "additionalProperties": False,
    }


async def test_tool_results_validate_against_many_random_response_schemas() -> None:
    rng = random.Random(2024)
    for index in range(300):
        responses = random_schema(rng)
        if responses.get("type") != "object":
            responses = {"type": "object", "properties": {"value": responses}, "required": ["value"]}
        spec = FunctionSpec(name=f"f{index}", description="random", parameters={"type": "object"}, responses=responses)
        task = compose("Random task.", "sequential", [sequential_task().atomic_tasks[0].model_copy(update={"functions": [spec]})], [])
        tool = SchemaToolSimulator(context(task, seed=index))
        answer = (await tool.on_messages([calls((spec.name, {}))], TOKEN)).chat_message.content[0]
        assert not answer.is_error, answer.content
        validator = Draft202012Validator(responses, format_checker=Draft202012Validator.FORMAT_CHECKER)
        errors = [e.message for e in validator.iter_errors(json.loads(answer.content))]
        assert not errors, (responses, answer.content, errors)


def test_values_follow_property_name_hints() -> None:
    schema = {
        "type": "object",
        "properties": {
            "author": {"type": "string"},
            "departureCity": {"type": "string"},
            "currency": {"type": "string"},
            "birth_date": {"type": "string", "format": "date"},
            "rating": {"type": "number"},
            "guests": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        },
    }
    value = generate_value(schema, random.Random(0))
    first, last = value["author"].split(" ")
    assert first[0].isupper() and last[0].isupper()
    assert value["departureCity"] in CITIES
    assert len(value["currency"]) == 3 and value["currency"].isupper()
    assert "1925" <= value["birth_date"] <= "2000-12-31"
    assert 1 <= value["rating"] <= 5
    assert len(value["guests"]) == 2 and all(" " in guest for guest in value["guests"])


async def test_offline_roles_play_inside_an_autogen_team() -> None:
    task = parallel_then_sequential_task()
    ctx = context(task, parallel_calls=True, seed=2)
    opening = (await ScriptedUser(ctx).on_messages([], TOKEN)).chat_message
    team = RoundRobinGroupChat(
        [OracleAssistant(ctx), SchemaToolSimulator(ctx)],
        termination_condition=FunctionalTermination(lambda messages: any(isinstance(m, FinalAnswerMessage) for m in messages)),
        custom_message_types=ROLE_MESSAGE_TYPES,
        max_turns=10,
    )
    result = await team.run(task=opening)
    kinds = [type(m).__name__ for m in result.messages]
    assert kinds == [
        "TextMessage", "FunctionCallMessage", "FunctionResultMessage",
        "FunctionCallMessage", "FunctionResultMessage", "FinalAnswerMessage",
    ]
    capitals = [json.loads(r.content)["capital"] for r in result.messages[2].content]
    flight = json.loads(result.messages[3].content[0].arguments)
    assert [flight["origin"], flight["destination"]] == capitals


async def test_oracle_asks_for_a_value_the_user_has_not_said() -> None:
    oracle = OracleAssistant(context())
    question = (await oracle.on_messages([TextMessage(content="When was that author born?", source="user")], TOKEN)).chat_message
    assert isinstance(question, TextMessage) and question.content.endswith("?")
    call = (await oracle.on_messages([TextMessage(content="Dune.", source="user")], TOKEN)).chat_message
    assert json.loads(call.content[0].arguments) == {"title": "Dune"}
