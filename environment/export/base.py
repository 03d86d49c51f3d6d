"""The exporter contract and the turn structure every format is built from.

A trajectory's messages are regrouped into turns before any format sees them: a user turn,
a call turn (an assistant's calls together with the tool turn that answers them, paired one
to one) or a reply turn (a question to the user, or the final answer). The regrouping is
also where a trajectory that cannot be exported faithfully is refused, so no format ever
writes a record its strict reader would reject for structural reasons.
"""

from __future__ import annotations

import hashlib
import json
import string
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from composition.errors import ConfigurationError, field_problems
from environment.trajectory import Message, ToolCall, ToolResult, Trajectory


class ExportError(ValueError):
    """A trajectory whose messages do not form an exportable conversation."""


@dataclass(frozen=True)
class UserTurn:
    text: str


@dataclass(frozen=True)
class CallTurn:
    """An assistant turn's calls and, in the same order, the results that answered them.

    ``ids`` are the export ids of the calls (see ``export_call_id``), not the ids the endpoint
    gave them; ``reasoning`` is the model's hidden reasoning, when the trajectory kept any.
    """

    thought: str
    calls: list[ToolCall]
    results: list[ToolResult]
    ids: list[str]
    reasoning: str = ""


@dataclass(frozen=True)
class ReplyTurn:
    """Assistant text without calls: a question to the user, or the final answer."""

    thought: str
    text: str
    final: bool
    reasoning: str = ""


Turn = UserTurn | CallTurn | ReplyTurn


def result_payload(result: ToolResult) -> Any:
    """What the assistant sees of a result: its value, or ``{"error": ...}`` when the call failed."""
    return {"error": result.error} if result.error is not None else result.results


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


CALL_ID_LENGTH = 9
_ID_ALPHABET = string.ascii_letters + string.digits


def export_call_id(trajectory_id: str, position: int, taken: set[str]) -> str:
    """The id a call carries in the exports: 9 letters and digits, the one shape every chat
    template accepts (Mistral's raise on anything else; endpoints' ``call_1`` or 40-character
    ids fail there). Derived from the trajectory and the call's position, so a rerun writes the
    same ids; a clash with an id in ``taken`` (the conversation's earlier ones) is salted away."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"{trajectory_id}/{position}/{salt}".encode()).digest()
        number = int.from_bytes(digest[:8], "big")
        ident = ""
        for _ in range(CALL_ID_LENGTH):
            number, digit = divmod(number, len(_ID_ALPHABET))
            ident += _ID_ALPHABET[digit]
        if ident not in taken:
            taken.add(ident)
            return ident
        salt += 1


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
    taken: set[str] = set()
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
            first = len(taken)
            ids = [export_call_id(trajectory.id, first + number, taken) for number in range(len(message.tool_calls))]
            result.append(CallTurn(message.thought, list(message.tool_calls), list(results), ids, message.reasoning or ""))
            index += 1
        else:
            if not message.content.strip():
                raise _fail(trajectory, index, "an assistant turn without calls needs text")
            if isinstance(previous, ReplyTurn):
                raise _fail(trajectory, index, "two assistant replies in a row")
            result.append(ReplyTurn(message.thought, message.content, message.final, message.reasoning or ""))
        index += 1
    last = result[-1]
    if not (isinstance(last, ReplyTurn) and last.final):
        raise _fail(trajectory, len(messages) - 1, "the conversation must end with the assistant's final answer")
    if any(isinstance(turn, ReplyTurn) and turn.final for turn in result[:-1]):
        raise _fail(trajectory, len(messages) - 1, "a final answer must be the last turn")
    return result


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Exporter(ABC):
    """Turns one kept trajectory into one record of a training-data format.

    A format with settings declares them as a pydantic model in ``Options``; they come from
    ``export.options.<format>`` in the config and are checked when the exporter is built.
    """

    name: ClassVar[str]
    filename: ClassVar[str]
    summary: ClassVar[str] = ""  # one line for the dataset card: who reads this layout, what is special
    Options: ClassVar[type[BaseModel]] = NoOptions

    def __init__(self, **options: Any) -> None:
        try:
            self.options: Any = self.Options.model_validate(options)
        except ValidationError as error:
            allowed = ", ".join(self.Options.model_fields) or "none"
            problems = "; ".join(field_problems(error))
            raise ConfigurationError(f"export.options.{self.name}: {problems} (options of {self.name}: {allowed})") from None

    def describe(self) -> str:
        """What the dataset card says of this file; a format whose options change it says so."""
        return self.summary

    @abstractmethod
    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        """The record for ``trajectory``; raises ExportError when it cannot be represented."""
