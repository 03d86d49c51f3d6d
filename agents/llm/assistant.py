"""LLMAssistant: a language model that solves the task with function calls, in either protocol."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import ToolSchema

from agents.base import AssistantRole
from agents.context import ConversationContext
from agents.llm.prompting import create, render_prompt, subtask_plan
from agents.llm.turns import TurnReader
from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage, FunctionResultMessage
from agents.protocol import render_calls, render_final
from agents.system_prompt import render_system_prompt
from composition.models import FunctionSpec


def tool_schema(spec: FunctionSpec) -> ToolSchema:
    """The AutoGen tool schema of a function (its results schema is not shown to the model)."""
    return ToolSchema(name=spec.name, description=spec.description, parameters=spec.parameters)  # type: ignore[typeddict-item]


class LLMAssistant(AssistantRole):
    """Sees the functions and, at generation time only, the sub-task plan; calls, asks or answers.

    ``show_plan=False`` hides the plan, as ``button eval`` does: a model under test plans itself.

    ``context.protocol`` picks how calls travel: ``native`` passes the functions as tools and
    reads the model's tool_calls (``parallel_tool_calls`` follows ``context.parallel_calls``);
    ``tags`` lists them in the prompt and reads ``<call>``/``<final>`` from the text. How a
    reply is judged (call, question, final answer or format error) is documented in
    agents/llm/turns.py. Endpoint failures raise RoleModelError.
    """

    def __init__(
        self,
        context: ConversationContext,
        model_client: ChatCompletionClient,
        name: str | None = None,
        description: str | None = None,
        show_plan: bool = True,
    ) -> None:
        super().__init__(context, name, description)
        self.model_client = model_client
        self.show_plan = show_plan
        functions = context.task.functions
        self._tools = [tool_schema(spec) for spec in functions] if context.protocol == "native" else []
        self._start()

    def _start(self) -> None:
        """The state of a fresh conversation (also what ``on_reset`` returns to)."""
        self._reader = TurnReader(self.name, self.context.protocol, self.context.parallel_calls)
        self._history: list[LLMMessage] = [SystemMessage(content=self._system_prompt())]
        self._pending: dict[str, tuple[str, Any]] = {}

    def _system_prompt(self) -> str:
        """The exported system prompt (agents/system_prompt.py) plus, with ``show_plan``, the
        private sub-task plan, which no export shows."""
        context = self.context
        shared = render_system_prompt(context.protocol, context.task.functions, context.parallel_calls)
        if not self.show_plan:
            return shared
        return f"{shared}\n\n{render_prompt('assistant_plan', plan=subtask_plan(context.task))}"

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        for message in messages:
            if message.source != self.name:
                self._history.append(self._heard(message))
        extra: dict[str, Any] = {"parallel_tool_calls": self.context.parallel_calls} if self._tools else {}
        result, exchange = await create(
            self.model_client,
            self.name,
            self._history,
            tools=self._tools,
            extra_create_args=extra,
            cancellation_token=cancellation_token,
        )
        reply = self._reader.read(result, exchange)
        self._history.append(self._said(reply))
        return Response(chat_message=reply)

    def _said(self, reply: BaseChatMessage) -> AssistantMessage:
        """Our own turn as the model should remember it: read and cleaned (no reasoning, repaired
        ids), so what it sees next matches what the record shows."""
        if isinstance(reply, FunctionCallMessage):
            self._pending = {call.id: (call.name, json.loads(call.arguments or "{}")) for call in reply.content}
            if self.context.protocol == "native":
                return AssistantMessage(content=reply.content, thought=reply.thought or None, source=self.name)
            calls = [{"name": c.name, "arguments": a} for c, a in zip(reply.content, reply.parsed_arguments(), strict=True)]
            return AssistantMessage(content=render_calls(reply.thought, calls), source=self.name)
        if isinstance(reply, FormatErrorMessage):
            return AssistantMessage(content=reply.raw or "(empty reply)", source=self.name)
        if isinstance(reply, FinalAnswerMessage) and self.context.protocol == "tags":
            return AssistantMessage(content=render_final(reply.thought, reply.content), source=self.name)
        return AssistantMessage(content=reply.to_model_text(), source=self.name)

    def _heard(self, message: BaseChatMessage) -> LLMMessage:
        """Another participant's message as the model should read it."""
        if isinstance(message, FunctionResultMessage):
            if self.context.protocol == "native":
                return FunctionExecutionResultMessage(content=list(message.content))
            return UserMessage(content=self._tag_results(message), source=message.source)
        return UserMessage(content=message.to_model_text(), source=message.source)

    def _tag_results(self, message: FunctionResultMessage) -> str:
        """Results as the tag prompt announces them: name, arguments and results per call, in order."""
        entries = []
        for result in message.content:
            name, arguments = self._pending.get(result.call_id, (result.name, {}))
            entry: dict[str, Any] = {"name": name, "arguments": arguments}
            if result.is_error:
                entry["error"] = result.content
            else:
                try:
                    entry["results"] = json.loads(result.content)
                except json.JSONDecodeError:
                    entry["results"] = result.content
            entries.append(entry)
        return json.dumps(entries, ensure_ascii=False)
