"""How an assistant model's reply becomes a chat message, for each call protocol.

Every reply first passes the shared reader (composition/llm/reading.py): reasoning is set
aside (it travels in the message's ``metadata["reasoning"]``, never in its text), calls
written as text become calls, and call ids are made unique for the conversation; what was
repaired is named in ``metadata["repairs"]``. Then, kept
deterministic so a dataset never depends on chance:

- a reply cut off at the token limit is a format error ``truncated``, a refusal ``refusal``,
  an empty reply ``empty_turn``, call markup that cannot be read ``bad_call_markup``;
- calls (native tool_calls, or recovered from the text) become a FunctionCallMessage whose
  thought is the visible text beside them;
- native: other text is a question to the user when it ends with ``?``, else the final answer;
- tags: ``<call>[...]</call>`` becomes a FunctionCallMessage, ``<final>...</final>`` a
  FinalAnswerMessage (the text before the tag is the thought); a reply with neither tag is a
  question when it ends with ``?`` and a format error ``no_tag`` otherwise; every other
  violation of agents/protocol.py is a format error named by its code;
- in both: arguments that are not a JSON object (``invalid_arguments``) and, with parallel
  calls off, more than one call in a turn (``parallel_not_allowed``) are format errors. Calls
  to unknown functions and arguments that break the schema are the controller's to answer
  (environment/controller.py), so the assistant sees them as failed calls.

A format error carries its code in ``metadata["code"]``, the feedback for the model in
``content`` and what the model wrote in ``raw``.
"""

from __future__ import annotations

import json

from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import FunctionCall
from autogen_core.models import CreateResult

from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage
from agents.protocol import ProtocolError, parse_turn
from composition.llm.reading import CallIds, Reading, read_answer
from composition.llm.wire import Exchange

_FINISH_ERRORS = {
    "length": ("truncated", "your reply was cut off at the length limit; answer more briefly"),
    "refusal": ("refusal", "you gave no answer; this is a harmless task, so call a function, ask or answer"),
    "empty": ("empty_turn", "your reply was empty; call a function, ask a question or answer"),
}


class TurnReader:
    """Reads one protocol's replies for one conversation; keeps call ids unique across it."""

    def __init__(self, source: str, protocol: str, parallel_calls: bool) -> None:
        self.source = source
        self.protocol = protocol
        self.parallel_calls = parallel_calls
        self.ids = CallIds()

    def read(self, result: CreateResult, exchange: Exchange | None = None) -> BaseChatMessage:
        reading = read_answer(result, exchange, self.ids)
        message = self._message(reading, result)
        notes = {"reasoning": reading.reasoning, "repairs": ",".join(reading.repairs)}
        message.metadata = {**message.metadata, **{key: value for key, value in notes.items() if value}}
        return message

    def _message(self, reading: Reading, result: CreateResult) -> BaseChatMessage:
        raw = reading.text
        if reading.finish in _FINISH_ERRORS:
            return self._error(*_FINISH_ERRORS[reading.finish], raw, result)
        if reading.finish == "bad_markup":
            return self._error("bad_call_markup", f"your calls could not be read: {reading.problem}", raw, result)
        if reading.calls:
            return self._calls(reading.calls, reading.text, raw, result)
        if self.protocol == "native":
            if _is_question(reading.text):
                return TextMessage(content=reading.text, source=self.source, models_usage=result.usage)
            return FinalAnswerMessage(content=reading.text, source=self.source, models_usage=result.usage)
        try:
            turn = parse_turn(reading.text)
        except ProtocolError as error:
            if error.code == "no_tag" and _is_question(reading.text):
                return TextMessage(content=reading.text, source=self.source, models_usage=result.usage)
            return self._error(error.code, str(error), raw, result)
        if turn.final is not None:
            return FinalAnswerMessage(content=turn.final, thought=turn.thought, source=self.source, models_usage=result.usage)
        calls = [FunctionCall(id="", name=c["name"], arguments=json.dumps(c["arguments"])) for c in turn.calls]
        return self._calls(self.ids.repair(calls)[0], turn.thought, raw, result)

    def _calls(self, calls: list[FunctionCall], thought: str, raw: str, result: CreateResult) -> BaseChatMessage:
        raw = raw or json.dumps([{"name": c.name, "arguments": c.arguments} for c in calls])
        for call in calls:
            try:
                arguments = json.loads(call.arguments or "{}")
            except json.JSONDecodeError as error:
                return self._error("invalid_arguments", f"arguments of {call.name} are not valid JSON: {error.msg}", raw, result)
            if not isinstance(arguments, dict):
                return self._error("invalid_arguments", f"arguments of {call.name} must be a JSON object", raw, result)
        if len(calls) > 1 and not self.parallel_calls:
            return self._error("parallel_not_allowed", f"you made {len(calls)} calls in one turn; make exactly one", raw, result)
        return FunctionCallMessage(content=calls, thought=thought, source=self.source, models_usage=result.usage)

    def _error(self, code: str, message: str, raw: str, result: CreateResult) -> FormatErrorMessage:
        return FormatErrorMessage(
            content=f"Format error ({code}): {message}.",
            raw=raw,
            metadata={"code": code},
            source=self.source,
            models_usage=result.usage,
        )


def _is_question(text: str) -> bool:
    """A plain-text turn addressed to the user: it ends with a question mark and holds no tag."""
    return text.endswith("?") and "<call" not in text and "<final" not in text
