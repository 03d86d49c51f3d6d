"""The environment controller: routes the turns of one conversation and records them.

Routing: the user opens; the assistant answers every turn. A call goes to the tool simulator
and its results come back to the assistant; a plain text turn is a question for the user,
whose answer goes back to the assistant; a final answer ends the conversation. A turn that
breaks the call protocol is not recorded: the assistant is told what was wrong. A call to an
unknown function or with arguments that break the schema (a missing required key, a wrong
type, a key the schema does not declare) is answered with error results the assistant sees,
in the turn, so it can correct itself; exact type conversions ("5" for an integer) are applied
and counted instead. After ``max_format_errors`` failed attempts in a row the conversation
ends. The kept record shows only the corrected call unless ``keep_recoveries`` is set. Every
end has a termination reason; a role whose model kept answering with nothing usable ends it
with that reason (truncated, refusal, empty_answer, tool_simulator_failed) and any other
failure of a role as ``agent_error``, instead of crashing the run.
Roles are built per conversation by factories (Hydra partials), so any subclass plugs in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import ChatAgent
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import FunctionExecutionResult

from agents.base import UnusableAnswer
from agents.context import ConversationContext, Protocol, RoleFactory
from agents.messages import FinalAnswerMessage, FormatErrorMessage, FunctionCallMessage, FunctionResultMessage
from composition.distractors import with_distractors
from composition.ids import content_id
from composition.models import CompositionalTask
from environment.arguments import argument_problems, coerce_arguments
from environment.trajectory import Message, Termination, ToolCall, ToolResult, Trajectory, Usage

ENVIRONMENT = "environment"
"""Source name of the controller's own messages to the assistant (format-error feedback)."""


class _Ended(Exception):
    """Internal: the conversation ended for ``termination`` (not an error of a role)."""

    def __init__(self, termination: Termination, detail: str = "") -> None:
        super().__init__(detail)
        self.termination = termination
        self.detail = detail


class EnvironmentController:
    """Plays one conversation per task with fresh roles and returns its (unverified) trajectory."""

    def __init__(
        self,
        user: RoleFactory,
        assistant: RoleFactory,
        tool: RoleFactory,
        *,
        protocol: Protocol = "native",
        parallel_calls: bool = True,
        max_turns: int = 12,
        max_format_errors: int = 2,
        keep_recoveries: bool = False,
        seed: int = 0,
        distractor_tools: int = 0,
    ) -> None:
        if max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {max_turns}")
        if max_format_errors < 0:
            raise ValueError(f"max_format_errors must be 0 or more, got {max_format_errors}")
        self.factories = {"user": user, "assistant": assistant, "tool": tool}
        self.protocol = protocol
        self.parallel_calls = parallel_calls
        self.max_turns = max_turns
        self.max_format_errors = max_format_errors
        self.keep_recoveries = keep_recoveries
        self.seed = seed
        self.distractor_tools = distractor_tools  # unused library functions added to each tool list

    def trajectory_id(self, task: CompositionalTask) -> str:
        """Content id of the conversation: the task and every setting that shapes it."""
        settings = {
            "task": task.id,
            "protocol": self.protocol,
            "parallel_calls": self.parallel_calls,
            "max_turns": self.max_turns,
            "max_format_errors": self.max_format_errors,
            "roles": {role: _factory_name(factory) for role, factory in self.factories.items()},
            **({"keep_recoveries": True} if self.keep_recoveries else {}),
            **({"distractor_tools": self.distractor_tools} if self.distractor_tools else {}),
        }
        return content_id("traj", settings, self.seed)

    def new_trajectory(self, task: CompositionalTask, termination: Termination, detail: str = "") -> Trajectory:
        return Trajectory(
            id=self.trajectory_id(task),
            task_id=task.id,
            strategy=task.strategy,
            functions=task.functions,
            parallel_calls=self.parallel_calls,
            termination=termination,
            termination_detail=detail,
        )

    def timed_out(self, task: CompositionalTask, seconds: float) -> Trajectory:
        """The record of a conversation a runner cancelled after ``seconds``."""
        return self.new_trajectory(task, Termination.TIMEOUT, f"no final answer within {seconds:g} s")

    async def run(self, task: CompositionalTask) -> Trajectory:
        """Play ``task`` out; ``trajectory.timings`` holds seconds per role and in total."""
        started = time.perf_counter()
        conversation = _Conversation(self, with_distractors(task, self.distractor_tools, self.seed))
        trajectory = conversation.trajectory
        try:
            await conversation.play()
        except _Ended as end:
            trajectory.termination = end.termination
            trajectory.termination_detail = end.detail
        except UnusableAnswer as error:
            known = {termination.value: termination for termination in Termination}
            trajectory.termination = known.get(error.reason, Termination.AGENT_ERROR)
            trajectory.termination_detail = f"{conversation.speaking}: {error}"
        except Exception as error:  # noqa: BLE001 - any role failure ends this conversation only
            trajectory.termination = Termination.AGENT_ERROR
            trajectory.termination_detail = f"{conversation.speaking}: {type(error).__name__}: {error}"
        trajectory.timings["total"] = time.perf_counter() - started
        return trajectory


class _Conversation:
    """The state of one conversation: its roles, the record so far, and the counters."""

    def __init__(self, controller: EnvironmentController, task: CompositionalTask) -> None:
        self.controller = controller
        self.task = task
        self.speaking = "controller"
        self.trajectory = controller.new_trajectory(task, Termination.FINAL_ANSWER)
        self.roles: dict[str, ChatAgent] = {}
        self.token = CancellationToken()
        self.failed_in_a_row = 0

    async def play(self) -> None:
        controller = self.controller
        context = ConversationContext(
            task=self.task, parallel_calls=controller.parallel_calls, protocol=controller.protocol, seed=controller.seed
        )
        for role, factory in controller.factories.items():
            self.speaking = role
            self.roles[role] = factory(context=context)
        opening = await self._ask("user", [])
        self._record_user(opening)
        inbox: list[BaseChatMessage] = [opening]
        turns = 0
        while True:
            if turns >= controller.max_turns:
                raise _Ended(Termination.MAX_TURNS, f"no final answer after {turns} assistant turns")
            turns += 1
            reply = _checked_calls(await self._ask("assistant", inbox))
            if isinstance(reply, FunctionCallMessage):
                reply, problems = self._reviewed(reply)
                if problems:
                    inbox = [self._call_feedback(reply, problems)]
                    continue
            if isinstance(reply, FormatErrorMessage):
                inbox = [self._format_feedback(reply)]
                continue
            self.failed_in_a_row = 0
            if isinstance(reply, FinalAnswerMessage):
                self._record(Message(role="assistant", content=reply.content, thought=reply.thought, final=True,
                                     reasoning=_reasoning(reply)), reply)
                return
            elif isinstance(reply, FunctionCallMessage):
                self._record_calls(reply)
                results = await self._ask("tool", [reply])
                if not isinstance(results, FunctionResultMessage):
                    raise TypeError(f"the tool role must answer with FunctionResultMessage, not {type(results).__name__}")
                self._record_results(results)
                inbox = [results]
            elif isinstance(reply, TextMessage):
                self._record(Message(role="assistant", content=reply.content, reasoning=_reasoning(reply)), reply)
                answer = await self._ask("user", [reply])
                self._record_user(answer)
                inbox = [answer]
            else:
                raise TypeError(f"unexpected assistant message type {type(reply).__name__}")

    def _reviewed(self, message: FunctionCallMessage) -> tuple[FunctionCallMessage, dict[str, str]]:
        """The calls with exact coercions applied (counted), and what is still wrong, by call id."""
        calls: list[FunctionCall] = []
        problems: dict[str, str] = {}
        for call, arguments in zip(message.content, message.parsed_arguments(), strict=True):
            spec = self.task.function(call.name)
            if spec is None:
                known = ", ".join(sorted(f.name for f in self.task.functions)) or "none"
                problems[call.id] = f"there is no function {call.name!r}; the functions are: {known}"
                calls.append(call)
                continue
            arguments, coerced = coerce_arguments(spec.parameters, arguments)
            found = argument_problems(spec.parameters, arguments)
            if found:
                problems[call.id] = f"invalid arguments for {call.name}: {'; '.join(found)}"
            elif coerced:
                self.trajectory.coercions += coerced
                call = FunctionCall(id=call.id, name=call.name, arguments=json.dumps(arguments, ensure_ascii=False))
            calls.append(call)
        return message.model_copy(update={"content": calls}), problems

    def _call_feedback(self, message: FunctionCallMessage, problems: dict[str, str]) -> FunctionResultMessage:
        """Error results for a turn with a bad call: the assistant sees them as the tools' answer."""
        self._count_failure(f"Format error (invalid_call): {'; '.join(problems.values())}", "invalid_call")
        results = FunctionResultMessage(
            content=[
                FunctionExecutionResult(
                    content=f"Error: {problems[call.id]}. Correct the call and make it again."
                    if call.id in problems
                    else "Not run: another call of this turn was invalid. Make this call again with the corrected one.",
                    name=call.name,
                    call_id=call.id,
                    is_error=True,
                )
                for call in message.content
            ],
            source=ENVIRONMENT,
        )
        if self.controller.keep_recoveries:
            self._record_calls(message)
            self._record_results(results, feedback=True)
        return results

    async def _ask(self, role: str, messages: Sequence[BaseChatMessage]) -> BaseChatMessage:
        """One turn of ``role``; its time and token usage are added to the trajectory."""
        self.speaking = role
        started = time.perf_counter()
        response = await self.roles[role].on_messages(messages, self.token)
        timings = self.trajectory.timings
        timings[role] = timings.get(role, 0.0) + time.perf_counter() - started
        for message in [*(response.inner_messages or []), response.chat_message]:
            self._add_usage(role, message)
        return response.chat_message

    def _add_usage(self, role: str, message: BaseAgentEvent | BaseChatMessage) -> None:
        if message.models_usage is None:
            return
        metadata = message.metadata or {}
        usage = self.trajectory.usage.setdefault(metadata.get("model", role), Usage())
        usage.requests += int(metadata.get("requests", 1))
        usage.prompt_tokens += message.models_usage.prompt_tokens
        usage.completion_tokens += message.models_usage.completion_tokens

    def _count_failure(self, detail: str, code: str) -> None:
        """One more failed assistant attempt; past ``max_format_errors`` in a row the conversation ends."""
        self.trajectory.format_errors += 1
        self.failed_in_a_row += 1
        if self.failed_in_a_row > self.controller.max_format_errors:
            raise _Ended(_GIVING_UP.get(code, Termination.FORMAT_ERRORS), detail)

    def _format_feedback(self, error: FormatErrorMessage) -> TextMessage:
        self._count_failure(error.content, (error.metadata or {}).get("code", ""))
        return TextMessage(
            source=ENVIRONMENT,
            content=f"Your last turn could not be used: {error.content} Please answer again, following the format.",
        )

    def _record(self, message: Message, said: BaseChatMessage | None = None) -> None:
        self.trajectory.messages.append(message)
        repairs = (said.metadata or {}).get("repairs", "") if said is not None else ""
        for kind in filter(None, repairs.split(",")):
            self.trajectory.repairs[kind] = self.trajectory.repairs.get(kind, 0) + 1

    def _record_user(self, message: BaseChatMessage) -> None:
        if not isinstance(message, TextMessage):
            raise TypeError(f"the user role must answer with TextMessage, not {type(message).__name__}")
        self._record(Message(role="user", content=message.content, reasoning=_reasoning(message)))

    def _record_calls(self, message: FunctionCallMessage) -> None:
        calls = [ToolCall(id=call.id, name=call.name, arguments=arguments)
                 for call, arguments in zip(message.content, message.parsed_arguments())]
        self._record(Message(role="assistant", thought=message.thought, tool_calls=calls, reasoning=_reasoning(message)), message)

    def _record_results(self, message: FunctionResultMessage, feedback: bool = False) -> None:
        results = [
            ToolResult(call_id=r.call_id, name=r.name, error=r.content, feedback=feedback)
            if r.is_error
            else ToolResult(call_id=r.call_id, name=r.name, results=_parsed(r.content))
            for r in message.content
        ]
        self._record(Message(role="tool", tool_results=results))


def _checked_calls(message: BaseChatMessage) -> BaseChatMessage:
    """A call turn whose arguments are not JSON objects is a format error, not a call."""
    if not isinstance(message, FunctionCallMessage):
        return message
    if not message.content:
        return _format_error(message, "the turn calls no function.")
    for call in message.content:
        try:
            arguments = json.loads(call.arguments or "{}")
        except json.JSONDecodeError as error:
            return _format_error(message, f"the arguments of {call.name} are not valid JSON ({error.msg}).")
        if not isinstance(arguments, dict):
            return _format_error(message, f"the arguments of {call.name} must be a JSON object.")
    return message


def _format_error(message: FunctionCallMessage, problem: str) -> FormatErrorMessage:
    return FormatErrorMessage(content=problem, raw=message.to_text(), source=message.source)


#: Why a conversation ends when its last failed attempts were of one kind.
_GIVING_UP = {
    "truncated": Termination.TRUNCATED,
    "refusal": Termination.REFUSAL,
    "empty_turn": Termination.EMPTY_ANSWER,
}


def _reasoning(message: BaseChatMessage) -> str | None:
    """The reasoning a role's reader set aside (agents/llm/turns.py), for the record only."""
    return (message.metadata or {}).get("reasoning") or None


def _parsed(content: str) -> Any:
    """Tool results are JSON text; anything else is kept as the text it is."""
    try:
        return json.loads(content)
    except json.JSONDecodeError:
        return content


def _factory_name(factory: RoleFactory) -> str:
    """``module.Class`` of what a factory builds (through functools.partial layers)."""
    target: Any = factory
    while hasattr(target, "func"):
        target = target.func
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__name__)}"
