"""The oracle assistant: executes a compositional task's gold DAG as its plan.

Each atomic task carries a gold ``Step`` (a function call or a reasoning operation). Function
steps become calls: all ready ones in one turn when parallel calls are on, one per turn when
off. Reasoning steps are worked out locally with ``composition.operations``. Arguments bound
to an earlier task's output take the value from that task's actual result, so data really
flows through the tool simulator's answers. The final answer is built from those results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken, FunctionCall

from agents.base import AssistantRole
from agents.context import ConversationContext
from agents.messages import FinalAnswerMessage, FunctionCallMessage, FunctionResultMessage
from composition.models import AtomicTask, OutputRef
from composition.operations import apply_operation


class PlanError(RuntimeError):
    """The oracle cannot execute the task: no gold steps, a failed call, or a missing output."""


class OracleAssistant(AssistantRole):
    """Plays the gold plan of ``context.task``; needs tasks whose atomic tasks all have a step.

    Offline roles take no options: extra keyword options are ignored (see ScriptedUser).
    """

    def __init__(
        self, context: ConversationContext, name: str | None = None, description: str | None = None, **options: Any
    ) -> None:
        super().__init__(context, name, description)
        self._tasks = context.task.atomic_tasks
        self._start()

    def _start(self) -> None:
        self._outputs: dict[int, Any] = {}  # atomic task index -> its raw output (result or value)
        self._pending: dict[str, int] = {}  # call id -> atomic task index
        self._calls_made = 0
        self._learned: list[int] = []  # tasks finished since the last turn, to mention in the thought

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        missing = [task.text for task in self._tasks if task.step is None]
        if missing:
            raise PlanError(f"the oracle needs a gold step for every sub-task; none for: {missing}")
        for message in messages:
            if isinstance(message, FunctionResultMessage):
                self._receive(message)
        if self._pending:
            raise PlanError(f"still waiting for the results of calls {sorted(self._pending)}")
        self._reason()
        ready = self._ready()
        if not ready:
            return Response(chat_message=self._final())
        batch = ready if self.context.parallel_calls else ready[:1]
        calls = [self._call(index) for index in batch]
        thought = self._thought(batch)
        self._learned = []
        return Response(chat_message=FunctionCallMessage(content=calls, thought=thought, source=self.name))

    def _receive(self, message: FunctionResultMessage) -> None:
        for result in message.content:
            index = self._pending.pop(result.call_id, None)
            if index is None:
                raise PlanError(f"a result answers unknown call id {result.call_id!r}")
            if result.is_error:
                raise PlanError(f"{result.name} failed: {result.content}")
            try:
                self._outputs[index] = json.loads(result.content)
            except json.JSONDecodeError:
                self._outputs[index] = result.content
            self._learned.append(index)

    def _ready(self) -> list[int]:
        """Sub-tasks neither done nor awaiting a result whose producers all have outputs, in order."""
        return [
            index
            for index in range(len(self._tasks))
            if index not in self._outputs
            and index not in self._pending.values()
            and all(p in self._outputs for p in self.context.task.producers(index))
        ]

    def _reason(self) -> None:
        """Work out every reasoning step whose inputs are known (one may unlock the next)."""
        progress = True
        while progress:
            progress = False
            for index in self._ready():
                step = self._tasks[index].step
                if step is not None and step.operation is not None:
                    self._outputs[index] = apply_operation(step.operation, self._inputs(index))
                    self._learned.append(index)
                    progress = True

    def _inputs(self, index: int) -> dict[str, Any]:
        step = self._tasks[index].step
        assert step is not None
        bound = {name: self._resolve(ref) for name, ref in step.bindings.items()}
        return {**step.arguments, **bound}

    def _resolve(self, ref: OutputRef) -> Any:
        if ref.task not in self._outputs:
            raise PlanError(f"a binding refers to sub-task {ref.task}, which has no output yet")
        output = self._outputs[ref.task]
        key = ref.field or self._tasks[ref.task].step.output_field  # type: ignore[union-attr]
        if key is None or not isinstance(output, dict):
            return output
        if key not in output:
            raise PlanError(f"the output of {self._tasks[ref.task].text!r} has no field {key!r}; it has {sorted(output)}")
        return output[key]

    def _answer(self, index: int) -> Any:
        """The value that answers a sub-task: its output field when it names one."""
        return self._resolve(OutputRef(task=index))

    def _describe(self, index: int) -> str:
        """The answer in words; an operation that picks one of its inputs (e.g. the larger of
        ``a`` and ``b``) is described by what that input stands for, not by its name."""
        value = self._answer(index)
        step = self._tasks[index].step
        assert step is not None
        if step.operation is not None and isinstance(value, str):
            if value in step.bindings:
                ref = step.bindings[value]
                return f"{_refer(self._tasks[ref.task])} ({_say(self._resolve(ref))})"
            if value in step.arguments:
                return _say(step.arguments[value])
        return _say(value)

    def _call(self, index: int) -> FunctionCall:
        step = self._tasks[index].step
        assert step is not None and step.function is not None
        self._calls_made += 1
        call_id = f"call_{self._calls_made}"
        self._pending[call_id] = index
        arguments = json.dumps(self._inputs(index), ensure_ascii=False)
        return FunctionCall(id=call_id, name=step.function, arguments=arguments)

    def _thought(self, batch: list[int]) -> str:
        parts: list[str] = []
        if self._learned:
            parts.append(" ".join(f"{_cap(_refer(self._tasks[i]))} is {self._describe(i)}." for i in self._learned))
        opener = "Next I need" if self._outputs else "First I need"
        needs = " and ".join(_refer(self._tasks[i]) for i in batch)
        parts.append(f"{opener} {needs}.")
        if len(batch) > 1:
            parts.append("These do not depend on each other, so I will look them up together.")
        return " ".join(parts)

    def _final(self) -> FinalAnswerMessage:
        sinks = [i for i in range(len(self._tasks)) if not any(s == i for s, _ in self.context.task.edges)]
        answer = " ".join(f"{_cap(_refer(self._tasks[i]))} is {self._describe(i)}." for i in sinks)
        support = [i for i in range(len(self._tasks)) if i not in sinks]
        if support:
            facts = "; ".join(f"{_refer(self._tasks[i])} is {self._describe(i)}" for i in support)
            answer += f" (Along the way I found that {facts}.)"
        return FinalAnswerMessage(content=answer, thought="I have everything I need to answer.", source=self.name)


def _refer(task: AtomicTask) -> str:
    """A noun phrase for a sub-task's answer, in plain words (never an id)."""
    if task.reference:
        return task.reference
    return f'the answer to "{task.text.strip()}"'


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _say(value: Any) -> str:
    """A short human rendering of a result value."""
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_say(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_say(item) for item in value) or "nothing"
    if value is None:
        return "unknown"
    return str(value)
