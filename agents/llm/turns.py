"""How an assistant model's reply becomes a chat message, for each call protocol.

The rules, kept deterministic so a dataset never depends on chance:

- a text reply cut off at the token limit (finish reason ``length``) is a format error
  ``truncated`` (AutoGen reports native tool calls as ``tool_calls`` whatever the server said,
  so cut-off native calls surface as ``invalid_arguments``);
- native: tool calls become a FunctionCallMessage (any text beside them is its thought); text
  without tool calls is a question to the user when it ends with ``?``, else the final answer;
  an empty reply is a format error ``empty_turn``;
- tags: ``<call>[...]</call>`` becomes a FunctionCallMessage, ``<final>...</final>`` a
  FinalAnswerMessage (the text before the tag is the thought); a reply with neither tag is a
  question when it ends with ``?`` and a format error ``no_tag`` otherwise; every other
  violation of agents/protocol.py is a format error named by its code;
- in both: an unknown function (``unknown_function``), arguments that are not a JSON object
  (``invalid_arguments``) and, with parallel calls off, more than one call in a turn
  (``parallel_not_allowed``) are format errors.

A format error carries its code in ``metadata["code"]``, the feedback for the model in
``content`` and what the model wrote in ``raw``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import FunctionCall
from autogen_core.models import CreateResult

from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage
from agents.protocol import ProtocolError, parse_turn


class TurnReader:
    """Reads one protocol's replies for one conversation; numbers tag-protocol call ids."""

    def __init__(self, source: str, function_names: Iterable[str], parallel_calls: bool) -> None:
        self.source = source
        self.function_names = sorted(set(function_names))
        self.parallel_calls = parallel_calls
        self._next_call = 0

    def read_native(self, result: CreateResult) -> BaseChatMessage:
        if isinstance(result.content, list):
            raw = json.dumps([{"name": c.name, "arguments": c.arguments} for c in result.content])
            return self._calls(list(result.content), result.thought or "", raw, result)
        text = result.content.strip()
        if result.finish_reason == "length":
            return self._error("truncated", "your reply was cut off at the length limit; answer more briefly", text, result)
        if not text:
            return self._error("empty_turn", "your reply was empty; call a function, ask a question or answer", "", result)
        if _is_question(text):
            return TextMessage(content=text, source=self.source, models_usage=result.usage)
        return FinalAnswerMessage(content=text, thought=result.thought or "", source=self.source, models_usage=result.usage)

    def read_tags(self, result: CreateResult) -> BaseChatMessage:
        if isinstance(result.content, list):
            raw = json.dumps([{"name": c.name, "arguments": c.arguments} for c in result.content])
            return self._error("native_call", "write calls as <call>[...]</call> in the text, not as tool calls", raw, result)
        text = result.content.strip()
        if result.finish_reason == "length":
            return self._error("truncated", "your reply was cut off at the length limit; answer more briefly", text, result)
        if not text:
            return self._error("empty_turn", "your reply was empty; end it with <call>[...]</call> or <final>...</final>", "", result)
        try:
            turn = parse_turn(text)
        except ProtocolError as error:
            if error.code == "no_tag" and _is_question(text):
                return TextMessage(content=text, source=self.source, models_usage=result.usage)
            return self._error(error.code, str(error), text, result)
        if turn.final is not None:
            return FinalAnswerMessage(content=turn.final, thought=turn.thought, source=self.source, models_usage=result.usage)
        calls = [FunctionCall(id=self._call_id(), name=c["name"], arguments=json.dumps(c["arguments"])) for c in turn.calls]
        return self._calls(calls, turn.thought, text, result)

    def _calls(self, calls: list[FunctionCall], thought: str, raw: str, result: CreateResult) -> BaseChatMessage:
        for call in calls:
            if call.name not in self.function_names:
                allowed = ", ".join(self.function_names) or "none"
                return self._error("unknown_function", f"there is no function {call.name!r}; available: {allowed}", raw, result)
            try:
                arguments = json.loads(call.arguments or "{}")
            except json.JSONDecodeError as error:
                return self._error("invalid_arguments", f"arguments of {call.name} are not valid JSON: {error.msg}", raw, result)
            if not isinstance(arguments, dict):
                return self._error("invalid_arguments", f"arguments of {call.name} must be a JSON object", raw, result)
        if len(calls) > 1 and not self.parallel_calls:
            return self._error("parallel_not_allowed", f"you made {len(calls)} calls in one turn; make exactly one", raw, result)
        return FunctionCallMessage(content=calls, thought=thought, source=self.source, models_usage=result.usage)

    def _call_id(self) -> str:
        self._next_call += 1
        return f"call_{self._next_call}"

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
