"""LLMToolSimulator: a language model playing every function, within each function's schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult, SystemMessage, UserMessage

from agents.base import ToolRole, UnusableAnswer
from agents.llm.model_role import ModelRole
from agents.llm.prompting import render_prompt
from agents.messages import FunctionCallMessage, FunctionResultMessage
from composition.ids import call_key
from composition.llm.structured import JsonAnswer, Rejection, ask_json
from composition.models import FunctionSpec
from composition.schemas import validation_errors


class LLMToolSimulator(ModelRole, ToolRole):
    """Answers each call with results that validate against the function's ``responses``.

    The model is asked with structured outputs (the ``responses`` schema) when its config says
    the endpoint supports them, else for JSON in text; either way the answer is read, validated
    (formats included) and asked again up to ``retries`` times (composition/llm/structured.py).
    A simulator that still refuses, answers empty or off-schema is an infrastructure fault, not
    a result: it raises UnusableAnswer(``tool_simulator_failed``) and nothing is cached, so a
    retry of the conversation asks afresh. A call naming an unknown function or breaking
    ``parameters`` (the controller normally answers those first) gets an error result. Identical
    calls within a conversation get the same result, and each request shows the earlier
    results so the world stays consistent.
    """

    def _start(self) -> None:
        """The state of a fresh conversation (also what ``on_reset`` returns to)."""
        self._results: dict[str, FunctionExecutionResult] = {}
        self._earlier: list[dict[str, Any]] = []

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        latest = next((m for m in reversed(messages) if isinstance(m, FunctionCallMessage)), None)
        if latest is None:
            raise ValueError(f"{self.name} answers a FunctionCallMessage; it received {[type(m).__name__ for m in messages]}")
        calls = list(latest.content)
        fresh: dict[str, FunctionCall] = {}
        for call in calls:
            fresh.setdefault(self._key(call), call)
        fresh = {key: call for key, call in fresh.items() if key not in self._results}
        answers = await asyncio.gather(*(self._simulate(call) for call in fresh.values()))
        for key, call, answer in zip(fresh, fresh.values(), answers, strict=True):
            if not answer.is_error:
                self._results[key] = answer
                self._earlier.append({"name": call.name, "arguments": _arguments(call), "results": json.loads(answer.content)})
        answered = {key: answer for key, answer in zip(fresh, answers, strict=True)}
        results = [
            (self._results.get(self._key(call)) or answered[self._key(call)]).model_copy(update={"call_id": call.id})
            for call in calls
        ]
        return Response(chat_message=FunctionResultMessage(content=results, source=self.name))

    @staticmethod
    def _key(call: FunctionCall) -> str:
        return call_key(call.name, _arguments(call))

    async def _simulate(self, call: FunctionCall) -> FunctionExecutionResult:
        spec = self.context.task.function(call.name)
        if spec is None:
            return _error(call, f"unknown function {call.name!r}")
        problems = validation_errors(spec.parameters, _arguments(call))
        if problems:
            return _error(call, f"invalid arguments for {call.name}: {'; '.join(problems)}")
        answer = await ask_json(
            self.model_client,
            [
                SystemMessage(content=self._system_prompt(spec)),
                UserMessage(content=json.dumps({"name": call.name, "arguments": _arguments(call)}), source="assistant"),
            ],
            JsonAnswer.from_schema(f"{spec.name}_results", spec.responses),
            retries=self.retries,
            role=self.name,
        )
        if isinstance(answer, Rejection):
            raise UnusableAnswer(
                "tool_simulator_failed", f"{self.name}: no usable result for {call.name} ({answer.reason}: {answer.detail})"
            )
        return FunctionExecutionResult(content=json.dumps(answer, ensure_ascii=False), name=call.name, call_id=call.id, is_error=False)

    def _system_prompt(self, spec: FunctionSpec) -> str:
        earlier = "\n".join(json.dumps(entry, ensure_ascii=False) for entry in self._earlier) or "(none yet)"
        return render_prompt(
            "tool",
            task=self.context.task.text,
            function=json.dumps(spec.model_dump(mode="json"), ensure_ascii=False),
            earlier=earlier,
        )


def _arguments(call: FunctionCall) -> Any:
    """The call's arguments as JSON; unparsable text is kept as a string (and still keyed)."""
    try:
        return json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return call.arguments


def _error(call: FunctionCall, message: str) -> FunctionExecutionResult:
    return FunctionExecutionResult(content=message, name=call.name, call_id=call.id, is_error=True)
