"""Exporters and their strict readers, on hand-built trajectories of every conversation shape."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agents.protocol import parse_turn
from agents.system_prompt import render_system_prompt, stated_parallel_rule
from button.api import run_pipeline
from button.app import kept_exports
from composition.jsonl import read_records
from composition.models import FunctionSpec
from environment.export import ExportError, ExportSet, available_exporters, get_exporter
from environment.export.validate import (
    check_button_record,
    check_export_file,
    check_hf_record,
    check_openai_record,
    check_sharegpt_record,
)
from environment.run_files import RunFiles
from environment.trajectory import Message, Termination, ToolCall, ToolResult, Trajectory

AUTHOR = FunctionSpec(
    name="find_book_author",
    description="Find who wrote a book, given its title.",
    parameters={"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]},
    responses={"type": "object", "properties": {"author": {"type": "string"}}, "required": ["author"]},
)
BIRTH = FunctionSpec(
    name="get_birth_year",
    description="Look up the year a person was born.",
    parameters={"type": "object", "properties": {"person": {"type": "string"}}, "required": ["person"]},
    responses={"type": "object", "properties": {"year": {"type": "integer"}}, "required": ["year"]},
)
WEATHER = FunctionSpec(
    name="get_weather",
    description="Current temperature in a city, in degrees Celsius.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    responses={"type": "object", "properties": {"celsius": {"type": "number"}}, "required": ["celsius"]},
)


def _call(call_id: str, name: str, **arguments: Any) -> ToolCall:
    return ToolCall(id=call_id, name=name, arguments=arguments)


def _result(call: ToolCall, results: Any) -> ToolResult:
    return ToolResult(call_id=call.id, name=call.name, results=results)


def _trajectory(ident: str, functions: list[FunctionSpec], parallel: bool, messages: list[Message]) -> Trajectory:
    return Trajectory(
        id=ident, task_id=f"task-{ident}", functions=functions, parallel_calls=parallel, messages=messages,
        termination=Termination.FINAL_ANSWER, kept=True,
    )


def sequential() -> Trajectory:
    first = _call("c1", "find_book_author", title="Dune")
    second = _call("c2", "get_birth_year", person="Frank Herbert")
    return _trajectory("seq", [AUTHOR, BIRTH], False, [
        Message(role="user", content="When was the author of the book Dune born?"),
        Message(role="assistant", thought="I need the author first.", tool_calls=[first]),
        Message(role="tool", tool_results=[_result(first, {"author": "Frank Herbert"})]),
        Message(role="assistant", thought="Now the birth year.", tool_calls=[second]),
        Message(role="tool", tool_results=[_result(second, {"year": 1920})]),
        Message(role="assistant", thought="I have it.", content="Frank Herbert was born in 1920.", final=True),
    ])


def parallel() -> Trajectory:
    paris = _call("c1", "get_weather", city="Paris")
    rome = _call("c2", "get_weather", city="Rome")
    return _trajectory("par", [WEATHER], True, [
        Message(role="user", content="Is it warmer in Paris or in Rome right now?"),
        Message(role="assistant", thought="Both cities at once.", tool_calls=[paris, rome]),
        Message(role="tool", tool_results=[_result(paris, {"celsius": 14}), _result(rome, {"celsius": 21.5})]),
        Message(role="assistant", content="Rome is warmer: 21.5 °C against 14 °C in Paris.", final=True),
    ])


def question() -> Trajectory:
    call = _call("c1", "get_weather", city="Oslo")
    return _trajectory("ask", [WEATHER], True, [
        Message(role="user", content="What is the weather like in my city?"),
        Message(role="assistant", thought="The city is not given.", content="Which city do you live in?"),
        Message(role="user", content="Oslo."),
        Message(role="assistant", tool_calls=[call]),
        Message(role="tool", tool_results=[_result(call, {"celsius": -3})]),
        Message(role="assistant", content="It is -3 °C in Oslo.", final=True),
    ])


TRAJECTORIES = [sequential, parallel, question]
CHECKERS = {
    "button": check_button_record, "hf": check_hf_record, "openai": check_openai_record, "sharegpt": check_sharegpt_record,
}
FORMATS = list(CHECKERS)
ID_SHAPE = re.compile(r"[A-Za-z0-9]{9}")


def record(name: str, build: Callable[[], Trajectory]) -> dict[str, Any]:
    return get_exporter(name).convert(build())


# --- registry and writer -----------------------------------------------------------------------


def test_registry_names_the_four_formats_and_refuses_others():
    assert available_exporters() == ["button", "hf", "openai", "sharegpt"]
    assert get_exporter("sharegpt").filename == "sharegpt.jsonl"
    assert get_exporter("hf").filename == "hf.jsonl"
    with pytest.raises(ValueError, match="unknown export format 'alpaca'; allowed: button, hf, openai, sharegpt"):
        get_exporter("alpaca")


def test_a_plug_in_format_is_found_by_dotted_path_and_must_be_an_exporter():
    assert get_exporter("environment.export.button.ButtonExporter").name == "button"
    with pytest.raises(ValueError, match="'json.JSONDecoder' is not a subclass of Exporter"):
        get_exporter("json.JSONDecoder")
    with pytest.raises(ValueError, match="cannot import export format 'nowhere.Exporter'"):
        get_exporter("nowhere.Exporter")


def test_export_set_writes_kept_trajectories_that_pass_the_strict_readers(tmp_path: Path):
    with ExportSet(tmp_path, available_exporters()) as exports:
        for build in TRAJECTORIES:
            exports.write(build())
    for name in available_exporters():
        report = check_export_file(tmp_path / "export" / f"{name}.jsonl", name)
        assert (report.records, report.problems) == (3, [])


def test_export_set_refuses_a_rejected_trajectory_and_writes_nothing(tmp_path: Path):
    rejected = sequential().model_copy(update={"kept": False, "reject_reason": "no_final_answer"})
    with ExportSet(tmp_path, ["button"]) as exports, pytest.raises(ValueError, match="no_final_answer"):
        exports.write(rejected)
    assert (tmp_path / "export" / "button.jsonl").read_text() == ""


MALFORMED = {
    "tool-turn-missing": (sequential, lambda m: m.pop(2), "message 1: an assistant turn with calls must be followed"),
    "no-final": (sequential, lambda m: m.pop(), "must end with the assistant's final answer"),
    "two-user-turns": (sequential, lambda m: m.insert(1, Message(role="user", content="again")),
                       "message 1: a user turn may only answer the assistant's question"),
    "result-missing": (parallel, lambda m: m[2].tool_results.pop(), "message 2: 1 results answer 2 calls"),
    "results-swapped": (parallel, lambda m: m[2].tool_results.reverse(), "result c2/get_weather does not answer call c1"),
    "tool-turn-alone": (question, lambda m: m.insert(1, m[4]), "message 1: a tool turn must follow"),
    "final-in-the-middle": (sequential, lambda m: m.insert(1, Message(role="assistant", content="Done.", final=True)),
                            "a final answer must be the last turn"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_converting_a_malformed_trajectory_names_the_message(case):
    build, mangle, problem = MALFORMED[case]
    trajectory = build()
    mangle(trajectory.messages)
    for name in available_exporters():
        with pytest.raises(ExportError, match=re.escape(problem)):
            get_exporter(name).convert(trajectory)


def test_two_calls_in_a_turn_are_refused_when_parallel_calls_are_off():
    trajectory = parallel().model_copy(update={"parallel_calls": False})
    with pytest.raises(ExportError, match="2 calls in one turn with parallel calls off"):
        get_exporter("openai").convert(trajectory)


# --- system prompts ----------------------------------------------------------------------------


def test_tags_prompt_lists_every_tool_as_json_inside_tool_tags():
    prompt = render_system_prompt("tags", [AUTHOR, BIRTH], True)
    (block,) = re.findall(r"<tool>(.*?)</tool>", prompt, re.DOTALL)
    assert json.loads(block) == [AUTHOR.model_dump(), BIRTH.model_dump()]
    assert "<call>" in prompt and "<final>" in prompt


@pytest.mark.parametrize("protocol", ["tags", "native"])
def test_prompts_state_whether_parallel_calls_are_allowed(protocol):
    allowed = render_system_prompt(protocol, [WEATHER], True)
    forbidden = render_system_prompt(protocol, [WEATHER], False)
    assert allowed != forbidden
    assert (stated_parallel_rule(allowed), stated_parallel_rule(forbidden)) == (True, False)
    assert "one function call per turn" in forbidden and "together in one turn" in allowed
    assert stated_parallel_rule("You are helpful.") is None


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("build", TRAJECTORIES)
def test_no_format_shows_a_plan_or_sub_task_guidance(name, build):
    text = json.dumps(record(name, build)).lower()
    assert not re.search(r"\bsteps?\b|\bplan\b|sub-?tasks?|decomposition", text)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("build", TRAJECTORIES)
def test_button_round_trip_gives_back_every_call_and_result(build):
    trajectory = build()
    exported = record("button", build)
    assert check_button_record(exported) == []
    roles = [message["role"] for message in exported["messages"]]
    assert roles[:2] == ["system", "user"] and roles[-1] == "assistant"
    calls, answers = [], []
    for message in exported["messages"][2:]:
        if message["role"] == "assistant" and "<" in message["content"]:
            calls += parse_turn(message["content"]).calls
        elif message["role"] == "tool":
            answers += json.loads(message["content"])
    assert calls == [{"name": c.name, "arguments": c.arguments} for c in trajectory.calls]
    assert [a["results"] for a in answers] == [r.results for r in trajectory.results]
    assert [(a["name"], a["arguments"]) for a in answers] == [(c["name"], c["arguments"]) for c in calls]
    assert parse_turn(exported["messages"][-1]["content"]).final == trajectory.messages[-1].content


def test_button_keeps_the_thought_before_the_tags_and_asks_in_plain_text():
    messages = record("button", question)["messages"]
    assert messages[2] == {"role": "assistant", "content": "The city is not given.\nWhich city do you live in?"}
    assert record("button", sequential)["messages"][2]["content"].startswith("I need the author first.\n<call>[")


def test_parallel_turn_exports_two_calls_in_each_format():
    button = record("button", parallel)["messages"]
    assert len(parse_turn(button[2]["content"]).calls) == 2
    assert [a["arguments"]["city"] for a in json.loads(button[3]["content"])] == ["Paris", "Rome"]
    openai = record("openai", parallel)
    assert openai["parallel_tool_calls"] is True
    ids = [c["id"] for c in openai["messages"][2]["tool_calls"]]
    assert [m["tool_call_id"] for m in openai["messages"][3:5]] == ids
    sharegpt = record("sharegpt", parallel)["conversations"]
    assert [c["from"] for c in sharegpt] == ["human", "function_call", "observation", "gpt"]
    thought, calls = sharegpt[1]["value"].split("\n<tool_call>")
    assert thought == "Both cities at once." and calls.endswith("</tool_call>")
    assert json.loads(calls.removesuffix("</tool_call>")) == [
        {"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_weather", "arguments": {"city": "Rome"}}]
    assert json.loads(sharegpt[2]["value"]) == [{"celsius": 14}, {"celsius": 21.5}]


@pytest.mark.parametrize("build", TRAJECTORIES)
def test_openai_round_trip_keeps_ids_arguments_and_tools(build):
    trajectory = build()
    exported = record("openai", build)
    assert check_openai_record(exported) == []
    assert exported["tools"] == [spec.to_openai_tool() for spec in trajectory.functions]
    assert exported["parallel_tool_calls"] is trajectory.parallel_calls
    calls = [c for m in exported["messages"] for c in m.get("tool_calls", [])]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        (c.name, c.arguments) for c in trajectory.calls]
    tools = [m for m in exported["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], json.loads(m["content"])) for m in tools] == [
        (c["id"], r.results) for c, r in zip(calls, trajectory.results)]
    assert all("name" not in m for m in tools)  # the fine-tuning schema's tool message has no name
    assert exported["messages"][-1] == {"role": "assistant", "content": trajectory.messages[-1].content}


@pytest.mark.parametrize("name", ["openai", "hf"])
def test_call_ids_are_nine_letters_and_digits_unique_and_stable_even_when_an_endpoint_reused_one(name):
    trajectory = sequential()
    for message in trajectory.messages[1:5]:
        for item in [*message.tool_calls, *message.tool_results]:
            setattr(item, "id" if isinstance(item, ToolCall) else "call_id", "call_0")
    exported = get_exporter(name).convert(trajectory)
    assert CHECKERS[name](exported) == []
    ids = [m.get("tool_call_id") or m["tool_calls"][0]["id"] for m in exported["messages"][2:6]]
    assert ids[0] == ids[1] != ids[2] == ids[3]
    assert all(ID_SHAPE.fullmatch(ident) for ident in ids)
    assert get_exporter(name).convert(trajectory) == exported  # a rerun writes the same ids
    other = trajectory.model_copy(update={"id": "another"})
    assert [c["id"] for m in get_exporter(name).convert(other)["messages"] for c in m.get("tool_calls", [])] != ids[::2]


def test_openai_call_turn_content_is_the_thought_or_null():
    assert record("openai", sequential)["messages"][2]["content"] == "I need the author first."
    assert record("openai", question)["messages"][4]["content"] is None


@pytest.mark.parametrize("build", TRAJECTORIES)
def test_sharegpt_alternates_sides_and_ends_with_gpt(build):
    exported = record("sharegpt", build)
    assert check_sharegpt_record(exported) == []
    sides = ["user" if c["from"] in ("human", "observation") else "assistant" for c in exported["conversations"]]
    assert sides == ["user", "assistant"] * (len(sides) // 2)
    assert exported["conversations"][-1]["from"] == "gpt"
    assert [t["name"] for t in json.loads(exported["tools"])] == [s.name for s in build().functions]


def test_sharegpt_single_call_is_one_object_and_a_question_is_gpt_then_human():
    conversations = record("sharegpt", question)["conversations"]
    assert [c["from"] for c in conversations] == ["human", "gpt", "human", "function_call", "observation", "gpt"]
    assert json.loads(conversations[3]["value"]) == {"name": "get_weather", "arguments": {"city": "Oslo"}}
    assert json.loads(conversations[4]["value"]) == {"celsius": -3}


# --- strict readers reject each kind of problem ----------------------------------------------------


def _set_content(index: int, text: str) -> Callable[[dict], None]:
    def mangle(rec: dict) -> None:
        rec["messages"][index]["content"] = text
    return mangle


def _button_two_calls(rec: dict) -> None:
    calls = [{"name": "find_book_author", "arguments": {"title": "Dune"}},
             {"name": "get_birth_year", "arguments": {"person": "Frank Herbert"}}]
    rec["messages"][2]["content"] = "Both.\n<call>" + json.dumps(calls) + "</call>"
    rec["messages"][3]["content"] = json.dumps([{**c, "results": {}} for c in calls])


BUTTON_BREAKS = {
    "system-not-first": (lambda r: r["messages"].pop(0), "must be the system prompt"),
    "no-tool-block": (lambda r: r["messages"][0].update(content="You are helpful. " + r["messages"][0]["content"]
                                                         .split("<tool>")[0]), "exactly one <tool></tool> block"),
    "tool-block-not-json": (lambda r: r["messages"][0].update(content="<tool>[{]</tool>"), "<tool> block is not valid JSON"),
    "no-parallel-rule": (lambda r: r["messages"][0].update(content=r["messages"][0]["content"].replace(
        "Make exactly one function call per turn", "Be kind")), "does not state whether parallel calls are allowed"),
    "unknown-tool": (_set_content(2, '<call>[{"name": "find_author", "arguments": {"title": "Dune"}}]</call>'),
                     "'find_author', which is not a listed tool"),
    "invalid-arguments": (_set_content(2, '<call>[{"name": "find_book_author", "arguments": {"title": 7}}]</call>'),
                          "do not match its parameters: 7 is not of type 'string'"),
    "missing-argument": (_set_content(2, '<call>[{"name": "find_book_author", "arguments": {}}]</call>'),
                         "'title' is a required property"),
    "unparsable-call": (_set_content(2, "<call>[{name: x}]</call>"), "breaks the tag protocol (invalid_json)"),
    "call-and-final": (_set_content(2, '<call>[{"name": "find_book_author", "arguments": {"title": "Dune"}}]</call>'
                                       "<final>x</final>"), "(call_and_final)"),
    "stray-tag": (_set_content(2, "Let me </call> think"), "(no_tag)"),
    "tool-count": (_set_content(3, "[]"), "one entry per call (1), got 0"),
    "tool-pairing": (_set_content(3, '[{"name": "find_book_author", "arguments": {"title": "Emma"}, "results": {}}]'),
                     "with other arguments or name than call 0"),
    "tool-not-json": (_set_content(3, "Frank Herbert"), "messages[3] is not valid JSON"),
    "tool-turn-missing": (lambda r: r["messages"].pop(3), "messages[3] has role 'assistant'; expected tool"),
    "no-final": (lambda r: r["messages"].pop(), "must be the assistant's <final> answer"),
    "after-final": (lambda r: r["messages"].append({"role": "user", "content": "thanks"}), "nothing after the final"),
    "parallel-off": (_button_two_calls, "holds 2 calls in one turn, but parallel calls are not allowed"),
    "extra-key": (lambda r: r["messages"][1].update(name="bob"), "unexpected keys ['name']"),
}


@pytest.mark.parametrize("case", BUTTON_BREAKS, ids=list(BUTTON_BREAKS))
def test_button_reader_catches(case):
    mangle, problem = BUTTON_BREAKS[case]
    broken = record("button", sequential)
    mangle(broken)
    problems = check_button_record(broken)
    assert any(problem in p for p in problems), problems


def _openai_two_calls(rec: dict) -> None:
    messages = rec["messages"]
    extra = {"id": "c2", "type": "function", "function": {"name": "get_birth_year", "arguments": '{"person": "A"}'}}
    messages[2]["tool_calls"].append(extra)
    messages.insert(4, {"role": "tool", "tool_call_id": "c2", "content": "{}"})
    messages[5]["tool_calls"][0]["id"] = "c3"
    messages[6]["tool_call_id"] = "c3"


def _arguments(text: Any) -> Callable[[dict], None]:
    def mangle(rec: dict) -> None:
        rec["messages"][2]["tool_calls"][0]["function"]["arguments"] = text
    return mangle


OPENAI_BREAKS = {
    "no-system": (lambda r: r["messages"].pop(0), "messages[0] must be the system prompt"),
    "unknown-tool": (lambda r: r["messages"][2]["tool_calls"][0]["function"].update(name="who_wrote"),
                     "'who_wrote', which is not a listed tool"),
    "arguments-not-string": (_arguments({"title": "Dune"}), "arguments must be a string holding JSON"),
    "arguments-not-json": (_arguments("{title: Dune}"), "arguments is not valid JSON"),
    "invalid-arguments": (_arguments('{"title": ["Dune"]}'), "do not match its parameters"),
    "unanswered-call": (lambda r: r["messages"].pop(3), "] are still unanswered"),
    "wrong-call-answered": (lambda r: r["messages"][3].update(tool_call_id="c7"),
                            "answers 'c7', but the next unanswered call is "),
    "tool-content-not-json": (lambda r: r["messages"][3].update(content="Frank"), "messages[3].content is not valid JSON"),
    "duplicate-id": (lambda r: (r["messages"][4]["tool_calls"][0].update(id=r["messages"][3]["tool_call_id"]),
                                r["messages"][5].update(tool_call_id=r["messages"][3]["tool_call_id"])),
                     "is used twice in this conversation"),
    "id-shape": (lambda r: (r["messages"][2]["tool_calls"][0].update(id="call_1"), r["messages"][3].update(tool_call_id="call_1")),
                 "'call_1' must be 9 letters and digits"),
    "ends-with-calls": (lambda r: r["messages"].pop(), "last message must be the assistant's answer"),
    "empty-answer": (lambda r: r["messages"][-1].update(content=""), "content must be a non-empty string"),
    "parallel-off": (_openai_two_calls, "holds 2 calls in one turn, but parallel calls are not allowed"),
    "rule-mismatch": (lambda r: r.update(parallel_tool_calls=True), "but parallel_tool_calls is True"),
    "bad-tool-schema": (lambda r: r["tools"][0]["function"].update(parameters={"type": "banana"}),
                        "is not a valid JSON Schema"),
    "tool-type": (lambda r: r["tools"][0].update(type="retrieval"), "tools[0].type must be 'function'"),
    "extra-key": (lambda r: r.update(id="x"), "unexpected keys ['id']"),
}


@pytest.mark.parametrize("case", OPENAI_BREAKS, ids=list(OPENAI_BREAKS))
def test_openai_reader_catches(case):
    mangle, problem = OPENAI_BREAKS[case]
    broken = record("openai", sequential)
    mangle(broken)
    problems = check_openai_record(broken)
    assert any(problem in p for p in problems), problems


def _conversation(index: int, **entry: str) -> Callable[[dict], None]:
    def mangle(rec: dict) -> None:
        rec["conversations"][index].update(entry)
    return mangle


SHAREGPT_BREAKS = {
    "human-at-odd-position": (lambda r: r["conversations"].insert(1, {"from": "human", "value": "hi"}),
                              "position 1 takes gpt or function_call"),
    "gpt-first": (lambda r: r["conversations"].pop(0), "position 0 takes human or observation"),
    "observation-missing": (_conversation(2, **{"from": "human", "value": "hello"}),
                            "expected an observation answering the function_call"),
    "observation-without-call": (_conversation(1, **{"from": "gpt", "value": "ok"}), "is 'observation'; expected a human turn"),
    "observation-count": (_conversation(2, value='[{"celsius": 1}]'), "must hold 2 results, one per call"),
    "joined-count": (_conversation(2, value='{"celsius": 1}\n</tool_response>\n<tool_response>\n{}\n</tool_response>\n'
                                        '<tool_response>\n{}'), "joins 3 results, but the function_call made 2 calls"),
    "joined-not-json": (_conversation(2, value='{"celsius": 1}\n</tool_response>\n<tool_response>\nwarm'),
                        "value result 1 is not valid JSON"),
    "thought-without-newline": (_conversation(1, value='Both.<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}'
                                                       "</tool_call>"), "must be a thought, a newline, then <tool_call>"),
    "text-after-tagged-call": (_conversation(1, value='Both.\n<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'
                                                      " done"), "must be a thought, a newline, then <tool_call>"),
    "unknown-tool": (_conversation(1, value='{"name": "get_forecast", "arguments": {"city": "Rome"}}'),
                     "'get_forecast', which is not a listed tool"),
    "invalid-arguments": (_conversation(1, value='[{"name": "get_weather", "arguments": {"town": "Rome"}}]'),
                          "'city' is a required property"),
    "call-not-json": (_conversation(1, value="get_weather(Rome)"), "is not valid JSON"),
    "empty-call-list": (_conversation(1, value="[]"), "empty list of calls"),
    "tools-not-string": (lambda r: r.update(tools=json.loads(r["tools"])), "tools must be a string holding JSON"),
    "ends-with-observation": (lambda r: r["conversations"].pop(), "last entry must be the assistant's final answer"),
    "parallel-off": (lambda r: r.update(system=render_system_prompt("native", [WEATHER], False)),
                     "holds 2 calls in one turn, but parallel calls are not allowed"),
    "no-parallel-rule": (lambda r: r.update(system="You are helpful."), "does not state whether parallel calls"),
    "unknown-from": (_conversation(3, **{"from": "assistant"}), "is 'assistant'; position 3 takes gpt or function_call"),
}


@pytest.mark.parametrize("case", SHAREGPT_BREAKS, ids=list(SHAREGPT_BREAKS))
def test_sharegpt_reader_catches(case):
    mangle, problem = SHAREGPT_BREAKS[case]
    broken = record("sharegpt", parallel)
    mangle(broken)
    problems = check_sharegpt_record(broken)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("name", FORMATS)
def test_readers_refuse_records_that_are_not_objects(name):
    assert CHECKERS[name]([]) == ["record must be a JSON object"]
    assert CHECKERS[name]({})


def _spots(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place inside a JSON value, as a path of keys and indices."""
    inner = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    return [path] + [spot for key, item in inner for spot in _spots(item, (*path, key))]


@pytest.mark.parametrize("name", FORMATS)
def test_readers_report_junk_anywhere_in_a_record_without_crashing(name):
    good = record(name, question)
    junk_values = [None, 7, ["x"], {"x": 1}, "", "[1, {]"]
    spots = [spot for spot in _spots(good) if spot]
    for spot in spots:
        for junk in junk_values:
            broken = copy.deepcopy(good)
            holder = broken
            for key in spot[:-1]:
                holder = holder[key]
            original, holder[spot[-1]] = holder[spot[-1]], junk
            problems = CHECKERS[name](broken)
            assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
            if junk in (None, 7) and junk != original:  # nowhere a valid value in these records
                assert problems, (spot, junk)


# --- files and the command line ------------------------------------------------------------------


def _write_run(run_dir: Path) -> None:
    with ExportSet(run_dir, available_exporters()) as exports:
        for build in TRAJECTORIES:
            exports.write(build())


def _run_checker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "environment.export", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_file_reader_names_file_and_line_of_bad_json_and_a_cut_last_line(tmp_path: Path):
    path = tmp_path / "button.jsonl"
    good = json.dumps(record("button", sequential))
    path.write_text(good + "\n{oops\n" + good[:20])
    report = check_export_file(path, "button")
    assert report.records == 2 and not report.ok
    assert report.problems[0].startswith(f"{path}:2: not valid JSON")
    assert report.problems[1] == f"{path}:3: the last line is incomplete (an interrupted write)"
    with pytest.raises(ValueError, match="allowed: button, hf, openai, sharegpt"):
        check_export_file(path, "csv")


def test_command_line_passes_a_good_run_and_prints_a_table(tmp_path: Path):
    _write_run(tmp_path)
    done = _run_checker(str(tmp_path))
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()]
    assert rows[0] == ["format", "file", "records", "problems"]
    assert [(row[0], row[2], row[3]) for row in rows[1:]] == [(n, "3", "0") for n in FORMATS]


def test_command_line_fails_with_the_file_and_line_of_the_first_bad_record(tmp_path: Path):
    _write_run(tmp_path)
    path = tmp_path / "export" / "openai.jsonl"
    lines = path.read_text().splitlines()
    broken = json.loads(lines[1])
    broken["messages"].pop()
    lines[1] = json.dumps(broken)
    path.write_text("\n".join(lines) + "\n")
    done = _run_checker(str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(f"{path}:2: ")
    assert "openai" in done.stdout and "0" in done.stdout


def test_command_line_reports_missing_files_and_unknown_formats(tmp_path: Path):
    from environment.export.__main__ import main

    assert main([str(tmp_path), "--formats", "button"]) == 1
    assert main([str(tmp_path), "--formats", "csv"]) == 2
    assert main([str(tmp_path / "nowhere")]) == 2


def test_a_failed_run_leaves_the_previous_exports_and_a_finished_one_adds_to_them(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_pipeline(run_dir, ["num_tasks=3", "runner.progress=false"])
    files = RunFiles(run_dir)
    before = {path.name: path.read_text() for path in files.export_dir.iterdir()}
    kept = [Trajectory.model_validate(record) for record in read_records(files.trajectories) if record["kept"]]
    data = [name for name in before if name.endswith(".jsonl")]
    assert len(kept) == 3 and sorted(data) == [f"{name}.jsonl" for name in FORMATS]
    assert all(len(before[name].splitlines()) == 3 for name in data) and "num_examples: 3" in before["README.md"]

    with pytest.raises(RuntimeError, match="boom"), kept_exports(files, FORMATS) as exports:
        exports.write(kept[0])
        raise RuntimeError("boom")
    assert {path.name: path.read_text() for path in files.export_dir.iterdir()} == before

    with kept_exports(files, FORMATS) as exports:
        exports.write(kept[0])  # a trajectory kept during the run joins the ones on disk
    after = {path.name: path.read_text() for path in files.export_dir.iterdir()}
    assert {name: len(after[name].splitlines()) for name in data} == {name: 4 for name in data}
    assert "num_examples: 4" in after["README.md"]
    assert not (run_dir / ".export-staging").exists()


# --- hf layout, options and the dataset card -------------------------------------------------------


@pytest.mark.parametrize("build", TRAJECTORIES)
def test_hf_round_trip_has_object_arguments_named_results_and_openai_tools(build):
    trajectory = build()
    exported = record("hf", build)
    assert check_hf_record(exported) == []
    assert set(exported) == {"messages", "tools"}
    assert exported["tools"] == [spec.to_openai_tool() for spec in trajectory.functions]
    calls = [c for m in exported["messages"] for c in m.get("tool_calls", [])]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls] == [(c.name, c.arguments) for c in trajectory.calls]
    tools = [m for m in exported["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["name"], json.loads(m["content"])) for m in tools] == [
        (c["id"], c["function"]["name"], r.results) for c, r in zip(calls, trajectory.results)]
    assert all(ID_SHAPE.fullmatch(c["id"]) for c in calls)


def test_hf_call_turn_content_is_the_thought_or_an_empty_string():
    assert record("hf", sequential)["messages"][2]["content"] == "I need the author first."
    assert record("hf", question)["messages"][4]["content"] == ""


def test_openai_and_hf_agree_on_everything_but_argument_text_and_tool_names():
    for build in TRAJECTORIES:
        hf, openai = record("hf", build), record("openai", build)
        for message in openai["messages"]:
            for call in message.get("tool_calls", []):
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
            if message["role"] == "tool":
                message.pop("tool_call_id")
            elif message.get("tool_calls") and message["content"] is None:
                message["content"] = ""
        for message in hf["messages"]:
            if message["role"] == "tool":
                message.pop("name"), message.pop("tool_call_id")
        assert hf["messages"] == openai["messages"]


HF_BREAKS = {
    "string-arguments": (lambda r: r["messages"][2]["tool_calls"][0]["function"].update(arguments='{"title": "Dune"}'),
                         "arguments must be a JSON object, not str"),
    "no-name": (lambda r: r["messages"][3].pop("name"), "messages[3] lacks 'name'"),
    "wrong-name": (lambda r: r["messages"][3].update(name="get_birth_year"), "is not the name of call"),
    "null-content": (lambda r: r["messages"][2].update(content=None), "messages[2].content must be a string"),
    "openai-top-key": (lambda r: r.update(parallel_tool_calls=False), "unexpected keys ['parallel_tool_calls']"),
}


def _hf_two_calls(rec: dict) -> None:
    _openai_two_calls(rec)
    for message in rec["messages"]:
        for call in message.get("tool_calls", []):
            if isinstance(call["function"]["arguments"], str):
                call["function"]["arguments"] = json.loads(call["function"]["arguments"])
            call["id"] = call["id"].ljust(9, "0")
        if message["role"] == "tool":
            message["tool_call_id"] = message["tool_call_id"].ljust(9, "0")
            message.setdefault("name", "get_birth_year")


HF_BREAKS["parallel-off"] = (_hf_two_calls, "holds 2 calls in one turn, but parallel calls are not allowed")


@pytest.mark.parametrize("case", HF_BREAKS, ids=list(HF_BREAKS))
def test_hf_reader_catches(case):
    mangle, problem = HF_BREAKS[case]
    broken = record("hf", sequential)
    mangle(broken)
    problems = check_hf_record(broken)
    assert any(problem in p for p in problems), problems


def _with_reasoning() -> Trajectory:
    trajectory = sequential()
    trajectory.messages = [
        message.model_copy(update={"reasoning": f"hidden {index}"}) if message.role == "assistant" else message
        for index, message in enumerate(trajectory.messages)
    ]
    return trajectory


def test_reasoning_goes_to_reasoning_content_only_when_asked():
    trajectory = _with_reasoning()
    plain = get_exporter("hf").convert(trajectory)
    assert "hidden" not in json.dumps(plain)
    exported = get_exporter("hf", {"reasoning": True}).convert(trajectory)
    assert check_hf_record(exported) == []
    assistants = [m for m in exported["messages"] if m["role"] == "assistant"]
    assert [m["reasoning_content"] for m in assistants] == ["hidden 1", "hidden 3", "hidden 5"]
    assert [m["content"] for m in assistants] == [m["content"] for m in plain["messages"] if m["role"] == "assistant"]
    for name in ("openai", "sharegpt", "button"):
        assert "hidden" not in json.dumps(get_exporter(name).convert(trajectory))


def test_sharegpt_options_write_the_bare_json_call_and_results_in_tool_response_blocks():
    exported = get_exporter("sharegpt", {"thoughts": False, "parallel_results": "tool_response"}).convert(parallel())
    assert check_sharegpt_record(exported) == []
    assert json.loads(exported["conversations"][1]["value"])[1] == {"name": "get_weather", "arguments": {"city": "Rome"}}
    assert exported["conversations"][2]["value"] == '{"celsius": 14}\n</tool_response>\n<tool_response>\n{"celsius": 21.5}'


def test_unknown_options_are_refused_with_the_allowed_ones(tmp_path: Path):
    with pytest.raises(ValueError, match=r"export.options.hf: think=True: Extra inputs .* \(options of hf: reasoning\)"):
        get_exporter("hf", {"think": True})
    with pytest.raises(ValueError, match="export.options.sharegpt: parallel_results='json'"):
        get_exporter("sharegpt", {"parallel_results": "json"})
    with pytest.raises(ValueError, match=r"export.options names unknown formats \['alpaca'\]; known: button, hf"):
        ExportSet(tmp_path, ["hf"], {"alpaca": {}})
    with ExportSet(tmp_path, ["button"], {"sharegpt": {"thoughts": False}}) as exports:  # options of formats not chosen
        exports.write(sequential())


def test_the_card_loads_every_export_with_datasets_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with ExportSet(tmp_path, FORMATS, settings={"model": "offline", "seed": 7}) as exports:
        for build in TRAJECTORIES:
            exports.write(build())
    directory = tmp_path / "export"
    card = (directory / "README.md").read_text()
    assert card.startswith("---\n") and "| model | `offline` |" in card and "| function calls | 5 |" in card
    for name in FORMATS:
        rows = datasets.load_dataset(str(directory), name, split="train", cache_dir=str(tmp_path / "cache"))
        assert len(rows) == 3
    rows = datasets.load_dataset(str(directory), "hf", split="train", cache_dir=str(tmp_path / "cache"))
    written = [json.loads(line) for line in (directory / "hf.jsonl").read_text().splitlines()]
    assert [dict(row) for row in rows] == written  # no key added, no null filled in


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("+export.options.hf.think=true", "export.options.hf: think=True: Extra inputs are not permitted (options of hf: reasoning)"),
        ("export.options.sharegpt.parallel_results=json", "export.options.sharegpt: parallel_results='json'"),
        ("export.formats=[alpaca]", "unknown export format 'alpaca'; allowed: button, hf, openai, sharegpt"),
    ],
)
def test_bad_export_settings_are_one_line_errors(override: str, message: str, tmp_path: Path, button_cli) -> None:
    result = button_cli("num_tasks=2", "runner.progress=false", override, f"hydra.run.dir={tmp_path}")
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_export_options_from_the_command_line_are_taken_and_the_card_lists_the_settings(tmp_path: Path, button_cli) -> None:
    result = button_cli("num_tasks=2", "runner.progress=false", "export.options.hf.reasoning=true", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert check_export_file(tmp_path / "export" / "hf.jsonl", "hf").problems == []
    card = (tmp_path / "export" / "README.md").read_text()
    assert "| parallel_calls | `True` |" in card and "num_examples: 2" in card


def test_the_card_describes_each_file_as_its_options_wrote_it(tmp_path: Path):
    options = {"sharegpt": {"thoughts": False, "parallel_results": "tool_response"}, "hf": {"reasoning": True}}
    with ExportSet(tmp_path, FORMATS, options) as exports:
        exports.write(parallel())
    card = (tmp_path / "export" / "README.md").read_text()
    assert "thoughts before calls are left out; parallel results joined as `<tool_response>` blocks" in card
    assert "the model's reasoning is in `reasoning_content`" in card
    with ExportSet(tmp_path / "default", ["sharegpt"]) as exports:
        exports.write(parallel())
    card = (tmp_path / "default" / "export" / "README.md").read_text()
    assert "`thought\\n<tool_call>JSON</tool_call>`" in card and "parallel results as one JSON list" in card


def test_a_run_with_no_export_format_keeps_its_trajectories_and_writes_no_card(tmp_path: Path, button_cli) -> None:
    result = button_cli("num_tasks=2", "runner.progress=false", "export.formats=[]", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr
    assert len((tmp_path / "trajectories.jsonl").read_text().splitlines()) == 2
    assert list((tmp_path / "export").iterdir()) == []
