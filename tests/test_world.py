"""The grounded world: true facts, deterministic volatile values, honest not-found answers,
and a library whose every entry the world can answer."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from autogen_core import CancellationToken, FunctionCall

from agents.context import ConversationContext
from agents.messages import FunctionCallMessage
from agents.offline.phrasing import number, with_unit
from agents.offline.world_tool import WorldToolSimulator
from button.api import run_pipeline
from composition.ids import canonical_json
from composition.library import load_library, realize
from composition.models import CompositionalTask
from composition.schemas import validation_errors
from composition.world import load_world, normalize
from composition.world.plan import Unanswerable, solve
from composition.world.world import World
from conftest import read_jsonl
from benchmarks.facts import FACTS, PLACEHOLDER_WORDS
from benchmarks.quality import conversation_texts, top_phrase, unit_coverage

PLACE_FIELDS = {"city", "country", "capital", "birthplace", "headquarters_city", "home_city", "nationality"}


@pytest.fixture(scope="module")
def world() -> World:
    return load_world()


@pytest.fixture(scope="module")
def offline_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200-conversation offline run in the default configuration."""
    run_dir = tmp_path_factory.mktemp("world_run")
    run_pipeline(run_dir, ["num_tasks=200", "seed=3"])
    return run_dir


@pytest.fixture(scope="module")
def offline_run(offline_run_dir: Path) -> list[dict]:
    return read_jsonl(offline_run_dir / "trajectories.jsonl")


def _tool_results(trajectories: list[dict]) -> list[tuple[str, dict, dict]]:
    """(function, arguments, results) of every successful call in the trajectories."""
    found = []
    for trajectory in trajectories:
        calls = {}
        for message in trajectory["messages"]:
            for call in message.get("tool_calls") or []:
                calls[call["id"]] = call
            for result in message.get("tool_results") or []:
                if result.get("error") is None:
                    call = calls[result["call_id"]]
                    found.append((call["name"], call["arguments"], result["results"]))
    return found


@pytest.mark.parametrize(("function", "arguments", "field", "expected"), FACTS)
def test_the_world_agrees_with_the_fact_table(world, function, arguments, field, expected):
    answer = world.call(function, arguments)
    assert answer.found, answer.error
    assert answer.result[field] == expected


def test_offline_tool_results_never_contradict_the_fact_table(world, offline_run):
    results = _tool_results(offline_run)
    assert len(results) > 300
    facts = {(function, canonical_json({k: normalize(v) for k, v in args.items()})): (field, expected)
             for function, args, field, expected in FACTS}
    audited = 0
    for function, arguments, result in results:
        key = (function, canonical_json({k: normalize(v) if isinstance(v, str) else v for k, v in arguments.items()}))
        if key in facts:
            field, expected = facts[key]
            assert result[field] == expected, (function, arguments, result)
            audited += 1
        # the tool said exactly what the world says, so the fact audit of the world covers it
        assert world.call(function, arguments).result == result
    assert audited > 0, "the run made none of the fact table's calls; the audit proved nothing"


def test_no_person_name_or_filler_phrase_fills_a_field_of_another_kind(world, offline_run):
    people = {normalize(name) for name in world.collection("person")} | {normalize(d.name) for d in world.doctors.items}
    for function, arguments, result in _tool_results(offline_run):
        text = json.dumps(result, ensure_ascii=False).casefold()
        assert not any(word in text for word in PLACEHOLDER_WORDS), (function, result)
        for field in PLACE_FIELDS & set(result):
            assert normalize(result[field]) not in people, (function, field, result)


def test_the_same_call_answers_the_same_across_seeds_runs_and_worlds(tmp_path, offline_run):
    other_dir = tmp_path / "seed4"
    run_pipeline(other_dir, ["num_tasks=60", "seed=4"])
    first = {(f, canonical_json(a)): r for f, a, r in _tool_results(offline_run)}
    second = {(f, canonical_json(a)): r for f, a, r in _tool_results(read_jsonl(other_dir / "trajectories.jsonl"))}
    shared = set(first) & set(second)
    assert shared, "the two runs made no identical call"
    assert all(first[key] == second[key] for key in shared)
    load_world.cache_clear()
    fresh = load_world()
    for function, arguments in list(shared)[:50]:
        assert fresh.call(function, json.loads(arguments)).result == first[(function, arguments)]


def test_the_answer_depends_on_the_entity_not_on_how_it_is_written(world):
    assert world.call("get_current_weather", {"city": "lisbon"}) .result == world.call("get_current_weather", {"city": "Lisbon"}).result
    assert world.call("get_city_info", {"city": "Sao Paulo"}).result == world.call("get_city_info", {"city": "São Paulo"}).result


@pytest.mark.parametrize(
    ("function", "arguments", "says"),
    [
        ("get_airport_info", {"airport_code": "XYZ"}, "XYZ"),
        ("get_city_info", {"city": "Atlantis"}, "Atlantis"),
        ("get_route", {"origin": "Milan", "destination": "Houston"}, "No driving route"),
        ("lookup_ticker", {"company": "Lego"}, "no stock listed"),
        ("search_flights", {"origin": "Boston", "destination": "Lisbon", "date": "2020-01-01"}, "in the past"),
        ("get_country_cuisine", {"country": "Germany"}, "no single recognised national dish"),
        ("no_such_function", {}, "no function"),
    ],
)
def test_calls_the_world_cannot_answer_get_a_not_found_answer(world, function, arguments, says):
    answer = world.call(function, arguments)
    assert not answer.found and answer.result is None
    assert says in answer.error


def test_the_world_tool_reports_not_found_as_an_error_result(world):
    library = load_library()
    spec = library.get("travel.airport_city").function
    task = CompositionalTask(id="t", text="x", strategy="sequential",
                             atomic_tasks=[{"id": "a", "text": "x", "functions": [spec]}], functions=[spec])
    tool = WorldToolSimulator(ConversationContext(task=task))
    calls = [FunctionCall(id="1", name=spec.name, arguments='{"airport_code": "JFK"}'),
             FunctionCall(id="2", name=spec.name, arguments='{"airport_code": "QQQ"}')]
    response = asyncio.run(tool.on_messages([FunctionCallMessage(content=calls, source="assistant")], CancellationToken()))
    good, missing = response.chat_message.content
    assert not good.is_error and json.loads(good.content)["city"] == "New York"
    assert missing.is_error and "QQQ" in missing.content


def test_every_library_entry_is_answerable_by_the_world(world):
    """Each function entry's examples (taken slot by slot together) and, for one-slot entries,
    every member of its world collection get a found answer that obeys ``responses``."""
    for entry in load_library().entries:
        if entry.function is None:
            continue
        slots = list(entry.slots)
        for slot, spec in entry.slots.items():
            if spec.world is not None:
                members = set(world.collection(spec.world))
                assert all(value in members for value in spec.examples), (entry.id, slot)
        calls = [dict(zip(slots, values)) for values in zip(*(entry.slots[s].examples for s in slots))]
        if len(slots) == 1 and entry.slots[slots[0]].world:
            calls = [{slots[0]: value} for value in world.collection(entry.slots[slots[0]].world)]
        for arguments in calls:
            answer = world.call(entry.function.name, arguments)
            assert answer.found, (entry.id, arguments, answer.error)
            assert entry.output_field in answer.result, (entry.id, arguments)
            assert not validation_errors(entry.function.responses, answer.result), (entry.id, answer.result)


def test_invented_entities_say_so_and_have_one_home(world):
    homes: dict[str, str] = {}
    for table in (world.hotels, world.businesses, world.doctors):
        for entity in table.items:
            if entity.invented:
                assert normalize(entity.name) not in homes, entity.name
                homes[normalize(entity.name)] = entity.city
    assert {world.businesses.get(name).city for name in world.collection("restaurant")[:30]} <= set(world.collection("city"))
    real = world.hotels.get("Hotel Sacher Wien")
    assert real is not None and not real.invented and real.city == "Vienna"


def test_volatile_values_are_plausible(world):
    forecast = world.call("get_weather_forecast", {"city": "Oslo", "date": "2025-12-24"}).result
    assert forecast["low_c"] < forecast["high_c"] < 12
    summer = world.call("get_weather_forecast", {"city": "Sydney", "date": "2025-12-24"}).result
    assert summer["high_c"] > forecast["high_c"]
    route = world.call("get_route", {"origin": "Milan", "destination": "Zurich"}).result
    assert 200 < route["distance_km"] < 400 and 120 < route["duration_minutes"] < 360
    long_route = world.call("get_route", {"origin": "Boston", "destination": "Seattle"}).result
    assert long_route["duration_minutes"] > route["duration_minutes"] * 10
    sunrise = world.call("get_sun_times", {"city": "Reykjavík", "date": "2025-12-21"}).result
    assert sunrise["sunrise"] > "10:30" and sunrise["sunset"] < "16:30"
    dish = world.call("get_nutrition_facts", {"dish": "ramen"}).result
    assert dish["protein_g"] < 60 and dish["calories"] < 1000


def test_the_world_data_files_carry_a_version_and_say_what_is_invented():
    folder = Path(__file__).resolve().parents[1] / "composition" / "world" / "data"
    assert json.loads((folder / "world.json").read_text())["version"]
    for path in folder.glob("*.json"):
        assert "about" in json.loads(path.read_text(encoding="utf-8")), path.name


def test_final_answers_state_differences_by_sign_with_their_unit(offline_run_dir):
    tasks = {t["id"]: CompositionalTask.model_validate(t) for t in read_jsonl(offline_run_dir / "tasks.jsonl")}
    world = load_world()
    checked = 0
    for trajectory in read_jsonl(offline_run_dir / "trajectories.jsonl"):
        task = tasks[trajectory["task_id"]]
        step = task.atomic_tasks[-1].step
        if step.operation != "difference":
            continue
        value = solve(world, task)[-1]
        answer = trajectory["messages"][-1]["content"]
        size = with_unit(abs(value), task.atomic_tasks[-1].unit)
        assert size in answer, (answer, value)
        assert f"-{number(abs(value))}" not in answer, answer  # the sign is said in words
        assert re.search(r"\b(higher|lower|later|earlier|warmer|colder|apart|between|equal|tie)\b", answer), answer
        checked += 1
    assert checked >= 3, "too few difference tasks in the sample to test"


def test_final_answers_vary_and_numbers_carry_units(offline_run_dir):
    _, _, finals = conversation_texts(read_jsonl(offline_run_dir / "export" / "openai.jsonl"))
    assert len(finals) == 200
    phrase, share = top_phrase(finals)
    assert share <= 0.20, (phrase, share)
    assert not any("Along the way I found that" in final for final in finals)
    tasks, trajectories = read_jsonl(offline_run_dir / "tasks.jsonl"), read_jsonl(offline_run_dir / "trajectories.jsonl")
    stated, with_units, _ = unit_coverage(tasks, trajectories)
    assert with_units > 30 and stated == with_units


def test_comparisons_are_like_with_like(world):
    library = load_library()
    wins, more = library.get("sports.season_wins"), library.get("sports.more_wins")

    def compare(first: str, second: str) -> CompositionalTask:
        a = realize(wins, 0, {"team": first}, {})
        b = realize(wins, 1, {"team": second}, {})
        sink = realize(more, 2, {}, {"a": a, "b": b})
        atomic = [a.task, b.task, sink.task]
        return CompositionalTask(id="t", text=sink.task.text, strategy="parallel_then_sequential",
                                 atomic_tasks=atomic, edges=[(0, 2), (1, 2)], functions=[wins.function])

    assert len(solve(world, compare("Boston Celtics", "Chicago Bulls"))) == 3
    with pytest.raises(Unanswerable, match="comparable"):
        solve(world, compare("Boston Celtics", "Green Bay Packers"))


def test_a_function_rewritten_under_a_library_name_gets_schema_values_not_the_world(world):
    spec = load_library().get("travel.airport_city").function
    rewritten = spec.model_copy(update={"responses": {"type": "object", "properties": {"town": {"type": "string"}}, "required": ["town"]}})
    task = CompositionalTask(id="t", text="x", strategy="sequential",
                             atomic_tasks=[{"id": "a", "text": "x", "functions": [rewritten]}], functions=[rewritten])
    tool = WorldToolSimulator(ConversationContext(task=task))
    call = FunctionCall(id="1", name=spec.name, arguments='{"airport_code": "JFK"}')
    response = asyncio.run(tool.on_messages([FunctionCallMessage(content=[call], source="assistant")], CancellationToken()))
    result = response.chat_message.content[0]
    assert not result.is_error and not validation_errors(rewritten.responses, json.loads(result.content))


@pytest.mark.parametrize(
    ("value", "unit", "written"),
    [
        (7_500_000, "people", "7,500,000 people"),
        (68000.0, "USD", "68,000 USD"),
        (12345.678, "km", "12,345.68 km"),
        (-25000, "USD", "-25,000 USD"),
        (1865, None, "1865"),
        (9999, "USD", "9999 USD"),
        (123456, None, "123456"),  # a bare number may be an identifier: its digits stay together
    ],
)
def test_large_amounts_are_written_with_thousands_separators(value, unit, written):
    assert with_unit(value, unit) == written


def test_grouped_amounts_still_count_as_stated(offline_run_dir):
    """The answer check reads '7,500,000' as 7500000: grouped answers pass it (stats.json)."""
    finals = [t["messages"][-1]["content"] for t in read_jsonl(offline_run_dir / "trajectories.jsonl")]
    assert any(re.search(r"\d{1,3}(,\d{3})+", final) for final in finals)
    answers = json.loads((offline_run_dir / "stats.json").read_text())["quality"]["answers"]
    assert answers["checked"] == answers["correct"] == answers["final"] > 0
