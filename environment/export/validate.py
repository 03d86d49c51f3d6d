"""Strict readers of the four export formats: each problem is named, none is forgiven.

Every reader checks the order of roles (system, then the user's request, ending with a final
answer), that every call names a listed tool with arguments valid against its parameters,
that every call is answered exactly once and in order, that a record forbidding parallel
calls holds no turn with several, that call ids (OpenAI, hf) are 9 letters and digits used
once, and (for the tag format) that assistant turns parse with the same parser the generator uses. The readers take only the record, never the trajectory,
so they judge the files exactly as a training job would see them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema.protocols import Validator
from pydantic import BaseModel

from agents.protocol import ProtocolError, parse_turn
from agents.system_prompt import stated_parallel_rule
from composition.models import IDENTIFIER_PATTERN
from composition.schemas import meta_schema_problem, schema_validator
from environment.export.base import CALL_ID_LENGTH
from environment.export.sharegpt import RESULT_SEPARATOR, TOOL_CALL_CLOSE, TOOL_CALL_OPEN

Catalogue = dict[str, Validator]

_TOOL_BLOCK = re.compile(r"<tool>(.*?)</tool>", re.DOTALL)
_PROTOCOL_TAG = re.compile(r"</?(call|final)>")
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_TAGGED_CALLS = re.compile(rf"(.*)\n{re.escape(TOOL_CALL_OPEN)}(.*){re.escape(TOOL_CALL_CLOSE)}", re.DOTALL)
_CALL_ID = re.compile(rf"[A-Za-z0-9]{{{CALL_ID_LENGTH}}}")


class Report(BaseModel):
    """Outcome of reading one export file; each problem starts with ``file:line:``."""

    path: str
    format: str
    records: int = 0
    problems: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.problems


# --- shared pieces ---------------------------------------------------------------------------


def _keys(value: Any, where: str, required: set[str], optional: frozenset[str] = frozenset()) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where} must be a JSON object"]
    problems = [f"{where} lacks {key!r}" for key in sorted(required - value.keys())]
    extra = sorted(value.keys() - required - optional)
    if extra:
        problems.append(f"{where} has unexpected keys {extra}; allowed: {sorted(required | optional)}")
    return problems


def _text(value: Any, where: str) -> list[str]:
    return [] if isinstance(value, str) and value.strip() else [f"{where} must be a non-empty string"]


def _spots(entries: Any, where: str) -> tuple[list[tuple[str, Any]], list[str]]:
    """A JSON list's items, each with the place it is reported under."""
    if not isinstance(entries, list):
        return [], [f"{where} must be a JSON list of tools"]
    return [(f"{where}[{index}]", entry) for index, entry in enumerate(entries)], []


def _catalogue(entries: list[tuple[str, Any]], schema_fields: tuple[str, ...]) -> tuple[Catalogue, list[str]]:
    """Validators for the tools' parameters, by name, plus what is wrong with the tool list."""
    catalogue: Catalogue = {}
    problems: list[str] = []
    for spot, entry in entries:
        entry_problems = _keys(entry, spot, {"name", "description", *schema_fields})
        if entry_problems:
            problems += entry_problems
            continue
        name = entry["name"]
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            problems.append(f"{spot} name {name!r} is not an identifier")
            continue
        if name in catalogue:
            problems.append(f"{spot} lists {name!r} twice")
        problems += _text(entry["description"], f"{spot} description of {name!r}")
        schema_problems = [problem for field in schema_fields for problem in _object_schema(entry[field], f"{spot} {field} of {name!r}")]
        problems += schema_problems
        if not schema_problems:
            catalogue[name] = schema_validator(entry["parameters"])
    return catalogue, problems


def _object_schema(schema: Any, where: str) -> list[str]:
    if not isinstance(schema, dict):
        return [f"{where} must be a JSON Schema of type 'object'"]
    problem = meta_schema_problem(schema)
    if problem is not None:
        return [f"{where} is not a valid JSON Schema: {problem}"]
    return [] if schema.get("type") == "object" else [f"{where} must be a JSON Schema of type 'object'"]


def _call(where: str, name: Any, arguments: Any, catalogue: Catalogue) -> list[str]:
    """A call must name a listed tool and carry an arguments object valid against its parameters."""
    if not isinstance(name, str) or name not in catalogue:
        return [f"{where} calls {name!r}, which is not a listed tool; listed: {sorted(catalogue)}"]
    if not isinstance(arguments, dict):
        return [f"{where} arguments of {name!r} must be a JSON object"]
    return [
        f"{where} arguments of {name!r} do not match its parameters: {error.message}"
        + (f" (at {'/'.join(map(str, error.absolute_path))})" if error.absolute_path else "")
        for error in catalogue[name].iter_errors(arguments)
    ]


def _parallel(where: str, count: int, parallel: bool | None) -> list[str]:
    if parallel is False and count > 1:
        return [f"{where} holds {count} calls in one turn, but parallel calls are not allowed"]
    return []


def _stated_rule(system: Any, where: str) -> tuple[bool | None, list[str]]:
    rule = stated_parallel_rule(system) if isinstance(system, str) else None
    if rule is None:
        return None, [f"{where} does not state whether parallel calls are allowed"]
    return rule, []


def _loads(text: Any, where: str) -> tuple[Any, list[str]]:
    if not isinstance(text, str):
        return None, [f"{where} must be a string holding JSON"]
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        return None, [f"{where} is not valid JSON: {error.msg}"]


# --- BUTTONInstruct --------------------------------------------------------------------------


def _button_tools(system: str) -> tuple[Catalogue, list[str]]:
    blocks = _TOOL_BLOCK.findall(system)
    if len(blocks) != 1:
        return {}, [f"the system prompt must list the tools in exactly one <tool></tool> block, found {len(blocks)}"]
    entries, problems = _loads(blocks[0], "the <tool> block")
    if problems:
        return {}, problems
    spots, problems = _spots(entries, "<tool>")
    catalogue, tool_problems = _catalogue(spots, ("parameters", "responses"))
    return catalogue, problems + tool_problems


def _button_tool_turn(where: str, content: str, calls: list[dict[str, Any]]) -> list[str]:
    answers, problems = _loads(content, where)
    if problems:
        return problems
    if not isinstance(answers, list) or len(answers) != len(calls):
        count = len(answers) if isinstance(answers, list) else "not a list"
        return [f"{where} must be a JSON list with one entry per call ({len(calls)}), got {count}"]
    for index, (answer, call) in enumerate(zip(answers, calls)):
        spot = f"{where}[{index}]"
        entry_problems = _keys(answer, spot, {"name", "arguments", "results"})
        if entry_problems:
            problems += entry_problems
        elif (answer["name"], answer["arguments"]) != (call["name"], call["arguments"]):
            problems.append(f"{spot} answers {answer['name']!r} with other arguments or name than call {index} ({call['name']!r})")
    return problems


def check_button_record(record: Any) -> list[str]:
    problems = _keys(record, "record", {"id", "messages"})
    if problems:
        return problems
    problems += _text(record["id"], "id")
    messages = record["messages"]
    if not isinstance(messages, list) or len(messages) < 3:
        return problems + ["messages must be a list: system, user, ..., a final answer"]
    for index, message in enumerate(messages):
        message_problems = _keys(message, f"messages[{index}]", {"role", "content"})
        if message_problems or not isinstance(message["content"], str):
            return problems + (message_problems or [f"messages[{index}].content must be a string"])
    if messages[0]["role"] != "system":
        return problems + [f"messages[0] must be the system prompt, got role {messages[0]['role']!r}"]
    system = messages[0]["content"]
    catalogue, tool_problems = _button_tools(system)
    parallel, rule_problems = _stated_rule(system, "the system prompt")
    problems += tool_problems + rule_problems
    expected: set[str] = {"user"}
    pending: list[dict[str, Any]] = []
    for index, message in enumerate(messages[1:], start=1):
        where, role, content = f"messages[{index}]", message["role"], message["content"]
        if not isinstance(role, str) or role not in expected:
            wanted = " or ".join(sorted(expected)) if expected else "nothing after the final answer"
            return problems + [f"{where} has role {role!r}; expected {wanted}"]
        if role == "user":
            problems += _text(content, where)
            expected = {"assistant"}
        elif role == "tool":
            problems += _button_tool_turn(where, content, pending)
            expected = {"assistant"}
        else:
            try:
                turn = parse_turn(content)
            except ProtocolError as error:
                if error.code != "no_tag" or _PROTOCOL_TAG.search(content):
                    return problems + [f"{where} breaks the tag protocol ({error.code}): {error}"]
                problems += _text(content, where)
                expected = {"user"}  # a question to the user
                continue
            if turn.final is not None:
                expected = set()
                continue
            pending = turn.calls
            problems += _parallel(where, len(pending), parallel)
            for number, call in enumerate(pending):
                problems += _call(f"{where} call {number}", call["name"], call["arguments"], catalogue)
            expected = {"tool"}
    if expected:
        problems.append("the last message must be the assistant's <final> answer")
    return problems


# --- OpenAI chat -----------------------------------------------------------------------------


def _openai_tools(tools: Any) -> tuple[Catalogue, list[str]]:
    spots, problems = _spots(tools, "tools")
    functions: list[tuple[str, Any]] = []
    for spot, tool in spots:
        tool_problems = _keys(tool, spot, {"type", "function"})
        if not tool_problems and tool["type"] != "function":
            tool_problems = [f"{spot}.type must be 'function'"]
        problems += tool_problems
        if not tool_problems:
            functions.append((f"{spot}.function", tool["function"]))
    catalogue, function_problems = _catalogue(functions, ("parameters",))
    return catalogue, problems + function_problems


@dataclass(frozen=True)
class ChatLayout:
    """What distinguishes the OpenAI layout from the ``hf`` one for a reader."""

    top_keys: frozenset[str]
    arguments_as_text: bool  # OpenAI: a JSON string; hf: the JSON object itself
    tool_name: bool  # hf: every tool message names the function it answers


OPENAI_LAYOUT = ChatLayout(frozenset({"messages", "tools", "parallel_tool_calls"}), True, False)
HF_LAYOUT = ChatLayout(frozenset({"messages", "tools"}), False, True)


def _call_id(value: Any, where: str, seen: set[str]) -> list[str]:
    """Ids are 9 letters and digits, used once: the shape every chat template accepts."""
    if not isinstance(value, str) or not _CALL_ID.fullmatch(value):
        return [f"{where}.id {value!r} must be {CALL_ID_LENGTH} letters and digits (Mistral's templates refuse others)"]
    if value in seen:
        return [f"{where}.id {value!r} is used twice in this conversation"]
    seen.add(value)
    return []


def _chat_calls(
    where: str, tool_calls: Any, catalogue: Catalogue, seen: set[str], layout: ChatLayout
) -> tuple[list[str], list[tuple[str, str]]]:
    """Problems of an assistant message's ``tool_calls``, and the (id, name) pairs left to be answered."""
    if not isinstance(tool_calls, list) or not tool_calls:
        return [f"{where}.tool_calls must be a non-empty list"], []
    problems: list[str] = []
    pending: list[tuple[str, str]] = []
    for index, tool_call in enumerate(tool_calls):
        spot = f"{where}.tool_calls[{index}]"
        call_problems = _keys(tool_call, spot, {"id", "type", "function"})
        if not call_problems:
            call_problems = _keys(tool_call["function"], f"{spot}.function", {"name", "arguments"})
        if not call_problems and tool_call["type"] != "function":
            call_problems = [f"{spot}.type must be 'function'"]
        call_problems = call_problems or _call_id(tool_call["id"], spot, seen)
        if call_problems:
            problems += call_problems
            continue
        name, arguments = tool_call["function"]["name"], tool_call["function"]["arguments"]
        pending.append((tool_call["id"], name))
        parse_problems: list[str] = []
        if layout.arguments_as_text:
            arguments, parse_problems = _loads(arguments, f"{spot}.function.arguments")
        elif not isinstance(arguments, dict):
            parse_problems = [f"{spot}.function.arguments must be a JSON object, not {type(arguments).__name__}"]
        problems += parse_problems or _call(spot, name, arguments, catalogue)
    return problems, pending


def _check_chat_record(record: Any, layout: ChatLayout) -> list[str]:
    problems = _keys(record, "record", set(layout.top_keys))
    if problems:
        return problems
    catalogue, problems = _openai_tools(record["tools"])
    parallel = record.get("parallel_tool_calls")
    if "parallel_tool_calls" in layout.top_keys and not isinstance(parallel, bool):
        problems.append("parallel_tool_calls must be true or false")
        parallel = None
    messages = record["messages"]
    if not isinstance(messages, list) or len(messages) < 3:
        return problems + ["messages must be a list: system, user, ..., a final answer"]
    first = messages[0]
    if not isinstance(first, dict) or first.get("role") != "system":
        return problems + ["messages[0] must be the system prompt"]
    problems += _keys(first, "messages[0]", {"role", "content"}) + _text(first.get("content"), "messages[0].content")
    stated, rule_problems = _stated_rule(first.get("content"), "the system prompt")
    problems += rule_problems
    if parallel is None:
        parallel = stated
    elif stated is not None and stated != parallel:
        problems.append(f"the system prompt says parallel calls {'are' if stated else 'are not'} allowed, "
                        f"but parallel_tool_calls is {parallel}")
    tool_keys = {"role", "tool_call_id", "content"} | ({"name"} if layout.tool_name else set())
    reasoning = frozenset() if layout.arguments_as_text else frozenset({"reasoning_content"})
    expected, can_end = {"user"}, False
    pending: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, message in enumerate(messages[1:], start=1):
        where = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or role not in expected:
            wanted = " or ".join(sorted(expected)) if expected else "nothing"
            unanswered = f" (calls {[ident for ident, _ in pending]} are still unanswered)" if pending else ""
            return problems + [f"{where} has role {role!r}; expected {wanted}{unanswered}"]
        can_end = False
        if role == "user":
            problems += _keys(message, where, {"role", "content"}) + _text(message.get("content"), f"{where}.content")
            expected = {"assistant"}
        elif role == "tool":
            problems += _keys(message, where, tool_keys)
            ident, name = pending[0]
            if message.get("tool_call_id") != ident:
                return problems + [f"{where} answers {message.get('tool_call_id')!r}, but the next unanswered call is {ident!r}"]
            if layout.tool_name and "name" in message and message["name"] != name:
                problems.append(f"{where}.name {message['name']!r} is not the name of call {ident!r} ({name!r})")
            pending.pop(0)
            problems += _loads(message.get("content"), f"{where}.content")[1]
            expected = {"tool"} if pending else {"assistant"}
        elif message.get("tool_calls"):
            problems += _keys(message, where, {"role", "tool_calls"}, frozenset({"content"}) | reasoning)
            content = message.get("content")
            if not (isinstance(content, str) or (content is None and layout.arguments_as_text)):
                problems.append(f"{where}.content must be a string{' or null' if layout.arguments_as_text else ''}")
            call_problems, pending = _chat_calls(where, message["tool_calls"], catalogue, seen, layout)
            count = len(message["tool_calls"]) if isinstance(message["tool_calls"], list) else 0
            problems += call_problems + _parallel(where, count, parallel)
            expected = {"tool"} if pending else set()
        else:
            problems += _keys(message, where, {"role", "content"}, frozenset({"tool_calls"}) | reasoning)
            problems += _text(message.get("content"), f"{where}.content")
            expected, can_end = {"user"}, True
    if not can_end:
        problems.append("the last message must be the assistant's answer without tool_calls")
    return problems


def check_openai_record(record: Any) -> list[str]:
    """The OpenAI fine-tuning layout: string arguments, tool messages without ``name``."""
    return _check_chat_record(record, OPENAI_LAYOUT)


def check_hf_record(record: Any) -> list[str]:
    """The ``hf`` layout: arguments as objects, tool messages naming their function."""
    return _check_chat_record(record, HF_LAYOUT)


# --- LLaMA-Factory sharegpt ------------------------------------------------------------------

USER_SIDE = ("human", "observation")
ASSISTANT_SIDE = ("gpt", "function_call")


def _function_call(where: str, value: Any, catalogue: Catalogue, parallel: bool | None) -> tuple[list[str], int | None]:
    """Problems of a function_call value, and how many results its observation must list (None: one, bare).

    The value is the calls' JSON, or a thought followed by that JSON inside ``<tool_call>`` tags,
    which is how LLaMA-Factory tells the two apart."""
    if isinstance(value, str) and TOOL_CALL_OPEN in value:
        match = _TAGGED_CALLS.fullmatch(value)
        if match is None or not match.group(1).strip():
            return [f"{where} must be a thought, a newline, then {TOOL_CALL_OPEN}JSON{TOOL_CALL_CLOSE} and nothing after"], None
        value = match.group(2)
    calls, problems = _loads(value, where)
    if problems:
        return problems, None
    count = len(calls) if isinstance(calls, list) else None
    listed = calls if isinstance(calls, list) else [calls]
    if not listed:
        return [f"{where} holds an empty list of calls"], count
    problems += _parallel(where, len(listed), parallel)
    for index, call in enumerate(listed):
        spot = f"{where} call {index}"
        call_problems = _keys(call, spot, {"name", "arguments"})
        problems += call_problems or _call(spot, call["name"], call["arguments"], catalogue)
    return problems, count


def _observation(where: str, value: Any, count: int | None) -> list[str]:
    """One JSON result; for several calls, a JSON list of them or their JSON joined as
    LLaMA-Factory joins consecutive tool messages."""
    if count is not None and isinstance(value, str) and RESULT_SEPARATOR in value:
        parts = value.split(RESULT_SEPARATOR)
        if len(parts) != count:
            return [f"{where} joins {len(parts)} results, but the function_call made {count} calls"]
        return [problem for number, part in enumerate(parts) for problem in _loads(part, f"{where} result {number}")[1]]
    results, problems = _loads(value, where)
    if not problems and count is not None and not (isinstance(results, list) and len(results) == count):
        return [f"{where} must hold {count} results, one per call (a JSON list, or joined by </tool_response><tool_response>)"]
    return problems


def check_sharegpt_record(record: Any) -> list[str]:
    problems = _keys(record, "record", {"conversations", "system", "tools"})
    if problems:
        return problems
    entries, problems = _loads(record["tools"], "tools")
    spots, list_problems = _spots(entries, "tools") if not problems else ([], [])
    catalogue, tool_problems = _catalogue(spots, ("parameters",))
    problems += list_problems
    parallel, rule_problems = _stated_rule(record["system"], "system")
    problems += tool_problems + rule_problems
    conversations = record["conversations"]
    if not isinstance(conversations, list) or len(conversations) < 2:
        return problems + ["conversations must be a list: human, ..., a final gpt answer"]
    call_open = False  # a function_call waits for its observation
    result_count: int | None = None  # results that observation must list; None: one bare result
    for position, entry in enumerate(conversations):
        where = f"conversations[{position}]"
        entry_problems = _keys(entry, where, {"from", "value"})
        if entry_problems:
            return problems + entry_problems
        side, speaker = (USER_SIDE, ASSISTANT_SIDE)[position % 2], entry["from"]
        if speaker not in side:
            return problems + [f"{where} is {speaker!r}; position {position} takes {' or '.join(side)}"]
        if (speaker == "observation") != call_open:
            due = "an observation answering the function_call before it" if call_open else "a human turn"
            return problems + [f"{where} is {speaker!r}; expected {due}"]
        if speaker == "function_call":
            call_problems, result_count = _function_call(f"{where}.value", entry["value"], catalogue, parallel)
            problems += call_problems
            call_open = True
            continue
        if speaker == "observation":
            problems += _observation(f"{where}.value", entry["value"], result_count)
        else:
            problems += _text(entry["value"], f"{where}.value")
        call_open = False
    if conversations[-1]["from"] != "gpt":
        problems.append("the last entry must be the assistant's final answer ('gpt')")
    return problems


# --- files -----------------------------------------------------------------------------------

CHECKERS: dict[str, Callable[[Any], list[str]]] = {
    "button": check_button_record,
    "openai": check_openai_record,
    "hf": check_hf_record,
    "sharegpt": check_sharegpt_record,
}


def check_export_file(path: Path, format: str) -> Report:
    """Read every line of an export file strictly; problems name the file and line."""
    if format not in CHECKERS:
        raise ValueError(f"unknown export format {format!r}; allowed: {', '.join(sorted(CHECKERS))}")
    report = Report(path=str(path), format=format)
    checker = CHECKERS[format]
    with Path(path).open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            where = f"{path}:{line}"
            if not raw.endswith(b"\n"):
                report.problems.append(f"{where}: the last line is incomplete (an interrupted write)")
                break
            if not raw.strip():
                report.problems.append(f"{where}: empty line")
                continue
            report.records += 1
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                report.problems.append(f"{where}: not valid JSON: {error}")
                continue
            report.problems += [f"{where}: {problem}" for problem in checker(record)]
    return report
