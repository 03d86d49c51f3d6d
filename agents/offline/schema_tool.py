"""The schema-driven tool simulator: plays every function with deterministic, schema-valid results."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult

from agents.base import ToolRole
from agents.context import ConversationContext
from agents.messages import FunctionCallMessage, FunctionResultMessage
from agents.offline.values import generate_value
from composition.ids import canonical_json
from composition.models import FunctionSpec
from composition.schemas import schema_validator, validation_errors


class SchemaToolSimulator(ToolRole):
    """Answers each call with results generated from the function's ``responses`` schema.

    Results depend only on (function name, canonical arguments), so the same call gives the
    same answer within a conversation, across conversations and across runs and seeds. A result property named like an
    argument echoes that argument when the value fits, so "weather in Oslo" says ``city: Oslo``.
    Calls to unknown functions, unparsable arguments and arguments that break ``parameters``
    get an error result explaining the problem, as a real API would answer.
    """

    def __init__(
        self, context: ConversationContext, name: str | None = None, description: str | None = None, **options: Any
    ) -> None:
        super().__init__(context, name, description)
        self._functions = {spec.name: spec for spec in context.task.functions}
        self._start()

    def _start(self) -> None:
        self._answers: dict[tuple[str, str], tuple[str, bool]] = {}

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        calls = next((m for m in reversed(messages) if isinstance(m, FunctionCallMessage)), None)
        if calls is None:
            kinds = [type(m).__name__ for m in messages]
            raise ValueError(f"the tool simulator answers a FunctionCallMessage; it received {kinds}")
        results = [self._answer(call) for call in calls.content]
        return Response(chat_message=FunctionResultMessage(content=results, source=self.name))

    def _answer(self, call: FunctionCall) -> FunctionExecutionResult:
        def error(text: str) -> FunctionExecutionResult:
            return FunctionExecutionResult(content=text, name=call.name, call_id=call.id, is_error=True)

        spec = self._functions.get(call.name)
        if spec is None:
            return error(f"unknown function {call.name!r}; available: {', '.join(sorted(self._functions))}")
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as problem:
            return error(f"arguments of {call.name} are not valid JSON: {problem.msg}")
        problems = validation_errors(spec.parameters, arguments)
        if problems:
            return error(f"invalid arguments for {call.name}: {'; '.join(problems)}")
        key = (call.name, canonical_json(arguments))
        if key not in self._answers:
            self._answers[key] = self._respond(spec, arguments, key[1])
        content, failed = self._answers[key]
        return FunctionExecutionResult(content=content, name=call.name, call_id=call.id, is_error=failed)

    def _respond(self, spec: FunctionSpec, arguments: dict[str, Any], canonical_arguments: str) -> tuple[str, bool]:
        """(content, is_error) for a valid call; subclasses answer from another source."""
        return json.dumps(self._results(spec, arguments, canonical_arguments), ensure_ascii=False), False

    def _results(self, spec: FunctionSpec, arguments: dict[str, Any], canonical_arguments: str) -> Any:
        rng = random.Random(f"tool:{spec.name}:{canonical_arguments}")
        results = generate_value(spec.responses, rng)
        properties = spec.responses.get("properties", {})
        for name, value in arguments.items():
            schema = properties.get(name)
            if isinstance(results, dict) and isinstance(schema, dict) and "$ref" not in schema:
                if schema_validator(schema).is_valid(value):
                    results[name] = value
        return results
