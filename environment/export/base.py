"""The exporter contract, its registry, and the turn structure every format is built from.

A trajectory's messages are regrouped into turns before any format sees them: a user turn,
a call turn (an assistant's calls together with the tool turn that answers them, paired one
to one) or a reply turn (a question to the user, or the final answer). The regrouping is
also where a trajectory that cannot be exported faithfully is refused, so no format ever
writes a record its strict reader would reject for structural reasons.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from composition.jsonl import JsonlWriter
from environment.trajectory import Message, ToolCall, ToolResult, Trajectory


class ExportError(ValueError):
    """A trajectory whose messages do not form an exportable conversation."""


@dataclass(frozen=True)
class UserTurn:
    text: str


@dataclass(frozen=True)
class CallTurn:
    """An assistant turn's calls and, in the same order, the results that answered them."""

    thought: str
    calls: list[ToolCall]
    results: list[ToolResult]


@dataclass(frozen=True)
class ReplyTurn:
    """Assistant text without calls: a question to the user, or the final answer."""

    thought: str
    text: str
    final: bool


Turn = UserTurn | CallTurn | ReplyTurn


def result_payload(result: ToolResult) -> Any:
    """What the assistant sees of a result: its value, or ``{"error": ...}`` when the call failed."""
    return {"error": result.error} if result.error is not None else result.results


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _fail(trajectory: Trajectory, index: int, problem: str) -> ExportError:
    return ExportError(f"trajectory {trajectory.id}, message {index}: {problem}")


def _pair(trajectory: Trajectory, index: int, calls: list[ToolCall], answer: Message | None) -> list[ToolResult]:
    if answer is None or answer.role != "tool":
        raise _fail(trajectory, index, "an assistant turn with calls must be followed by a tool turn")
    if len(answer.tool_results) != len(calls):
        raise _fail(trajectory, index + 1, f"{len(answer.tool_results)} results answer {len(calls)} calls")
    for call, result in zip(calls, answer.tool_results):
        if (result.call_id, result.name) != (call.id, call.name):
            raise _fail(
                trajectory, index + 1, f"result {result.call_id}/{result.name} does not answer call {call.id}/{call.name}"
            )
    return answer.tool_results


def turns(trajectory: Trajectory) -> list[Turn]:
    """Regroup the messages into turns, or raise ExportError naming the first misplaced message."""
    messages = trajectory.messages
    if not messages or messages[0].role != "user" or not messages[0].content.strip():
        raise _fail(trajectory, 0, "a conversation must open with the user's request")
    result: list[Turn] = []
    index = 0
    while index < len(messages):
        message = messages[index]
        previous = result[-1] if result else None
        if message.role == "user":
            if previous is not None and not (isinstance(previous, ReplyTurn) and not previous.final):
                raise _fail(trajectory, index, "a user turn may only answer the assistant's question")
            result.append(UserTurn(message.content))
        elif message.role == "tool":
            raise _fail(trajectory, index, "a tool turn must follow an assistant turn with calls")
        elif message.tool_calls:
            if message.final:
                raise _fail(trajectory, index, "a final answer cannot also call functions")
            if not trajectory.parallel_calls and len(message.tool_calls) > 1:
                raise _fail(trajectory, index, f"{len(message.tool_calls)} calls in one turn with parallel calls off")
            answer = messages[index + 1] if index + 1 < len(messages) else None
            results = _pair(trajectory, index, message.tool_calls, answer)
            result.append(CallTurn(message.thought, list(message.tool_calls), list(results)))
            index += 1
        else:
            if not message.content.strip():
                raise _fail(trajectory, index, "an assistant turn without calls needs text")
            if isinstance(previous, ReplyTurn):
                raise _fail(trajectory, index, "two assistant replies in a row")
            result.append(ReplyTurn(message.thought, message.content, message.final))
        index += 1
    last = result[-1]
    if not (isinstance(last, ReplyTurn) and last.final):
        raise _fail(trajectory, len(messages) - 1, "the conversation must end with the assistant's final answer")
    if any(isinstance(turn, ReplyTurn) and turn.final for turn in result[:-1]):
        raise _fail(trajectory, len(messages) - 1, "a final answer must be the last turn")
    return result


class Exporter(ABC):
    """Turns one kept trajectory into one record of a training-data format."""

    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        """The record for ``trajectory``; raises ExportError when it cannot be represented."""


_REGISTRY: dict[str, type[Exporter]] = {}
E = TypeVar("E", bound=type[Exporter])


def register_exporter(cls: E) -> E:
    """Class decorator: makes a format selectable by its ``name`` (e.g. in conf/export)."""
    _REGISTRY[cls.name] = cls
    return cls


def available_exporters() -> list[str]:
    return sorted(_REGISTRY)


def get_exporter(name: str) -> Exporter:
    """A registered format by name, or any Exporter subclass by dotted path (``pkg.module.Class``)."""
    if name in _REGISTRY:
        return _REGISTRY[name]()
    allowed = f"allowed: {', '.join(available_exporters())}, or a dotted path to an Exporter subclass"
    if "." not in name:
        raise ValueError(f"unknown export format {name!r}; {allowed}")
    module_name, _, class_name = name.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import export format {name!r} ({error}); {allowed}") from None
    if not (isinstance(found, type) and issubclass(found, Exporter)):
        raise ValueError(f"export format {name!r} is not an Exporter subclass; {allowed}")
    return found()


class ExportSet:
    """Writes every kept trajectory to ``<run_dir>/export/<format file>`` for each chosen format."""

    def __init__(self, run_dir: Path, names: list[str]) -> None:
        self.exporters = [get_exporter(name) for name in names]
        self.directory = Path(run_dir) / "export"
        self._writers = [JsonlWriter(self.directory / exporter.filename) for exporter in self.exporters]

    def write(self, trajectory: Trajectory) -> None:
        """Convert for all formats first, so a refused trajectory leaves every file untouched."""
        if not trajectory.kept:
            raise ValueError(f"trajectory {trajectory.id} was rejected ({trajectory.reject_reason}); only kept ones are exported")
        records = [exporter.convert(trajectory) for exporter in self.exporters]
        for writer, record in zip(self._writers, records):
            writer.write(record)

    def close(self) -> None:
        for writer in self._writers:
            writer.close()

    def __enter__(self) -> ExportSet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
