"""The oracle assistant: executes a compositional task's gold DAG as its plan.

Each atomic task carries a gold ``Step`` (a function call or a reasoning operation). Function
steps become calls: all ready ones in one turn when parallel calls are on, one per turn when
off. Reasoning steps are worked out locally with ``composition.operations``. Arguments bound
to an earlier task's output take the value from that task's actual result, so data really
flows through the tool simulator's answers; inputs and bindings are resolved by the one
gold-plan executor, ``composition.gold``, played here one turn at a time. The final answer is
built from those results and worded for what the last step computed: a comparison names the
winner and both values, a difference says which side is higher by how much (never a bare
signed number), numbers carry their unit. When the user has not said a value a call needs,
the oracle asks for it first.
Wording varies per conversation (``phrases/oracle.json``), deterministically per
(seed, task).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, TextMessage
from autogen_core import CancellationToken, FunctionCall

from agents.base import AssistantRole
from agents.context import ConversationContext
from agents.messages import FinalAnswerMessage, FunctionCallMessage, FunctionResultMessage
from agents.offline.phrasing import Phrasing, phrasebook, with_unit
from composition.gold import GoldPlanError, choice_adjective, resolve, sinks, step_inputs
from composition.models import AtomicTask, OutputRef
from composition.operations import apply_operation
from composition.world import load_world


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
        self._words = Phrasing("oracle", random.Random(f"oracle:{self.context.seed}:{self.context.task.id}"))
        self._heard = ""  # everything the user has said, to notice a detail they left out
        self._asked: set[str] = set()

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        missing = [task.text for task in self._tasks if task.step is None]
        if missing:
            raise PlanError(f"the oracle needs a gold step for every sub-task; none for: {missing}")
        for message in messages:
            if isinstance(message, FunctionResultMessage):
                self._receive(message)
            elif isinstance(message, TextMessage) and message.source != self.name:
                self._heard += " " + message.content.casefold()
        if self._pending:
            raise PlanError(f"still waiting for the results of calls {sorted(self._pending)}")
        self._reason()
        ready = self._ready()
        if not ready:
            return Response(chat_message=self._final())
        batch = ready if self.context.parallel_calls else ready[:1]
        unsaid = self._unsaid(batch)
        if unsaid is not None:
            self._asked.add(unsaid)
            noun = self._words.book["nouns"].get(unsaid, unsaid.replace("_", " "))
            return Response(chat_message=TextMessage(content=self._words.say("ask", noun=noun), source=self.name))
        calls = [self._call(index) for index in batch]
        thought = self._thought(batch)
        self._learned = []
        return Response(chat_message=FunctionCallMessage(content=calls, thought=thought, source=self.name))

    def _unsaid(self, batch: list[int]) -> str | None:
        """The argument name of a literal value the next calls need that the user has not said
        (and that was not asked for already), or None: the user may have left a detail out."""
        for index in batch:
            step = self._tasks[index].step
            assert step is not None
            for name, value in step.arguments.items():
                if isinstance(value, str) and value.casefold() not in self._heard and name not in self._asked:
                    return name
        return None

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
        """A step's arguments, literal and bound, as the one gold-plan executor computes them."""
        step = self._tasks[index].step
        assert step is not None
        try:
            return step_inputs(self._tasks, self._outputs, step)
        except GoldPlanError as error:
            raise PlanError(str(error)) from error

    def _resolve(self, ref: OutputRef) -> Any:
        try:
            return resolve(self._tasks, self._outputs, ref)
        except GoldPlanError as error:
            raise PlanError(str(error)) from error

    def _answer(self, index: int) -> Any:
        """The value that answers a sub-task: its output field when it names one."""
        return self._resolve(OutputRef(task=index))

    def _describe(self, index: int) -> str:
        """The answer in words, with its unit; an operation that picks one of its inputs (e.g.
        the larger of ``a`` and ``b``) is described by what that input stands for."""
        value = self._answer(index)
        step = self._tasks[index].step
        assert step is not None
        if step.operation is not None and isinstance(value, str):
            if value in step.bindings:
                ref = step.bindings[value]
                return f"{self._called(ref.task)} ({self._value_of(ref.task)})"
            if value in step.arguments:
                return _say(step.arguments[value])
        return self._value_of(index)

    def _called(self, index: int) -> str:
        """How the oracle refers to a sub-task once its inputs are known: the reference with each
        producer's phrase replaced by the value it turned out to be ("the forecast high in the
        home city of the Green Bay Packers" becomes "the forecast high in Green Bay"), written
        as the world writes it in a sentence ("the United States")."""
        text = _refer(self._tasks[index])
        step = self._tasks[index].step
        for ref in step.bindings.values() if step is not None else ():
            value = self._resolve(ref) if ref.task in self._outputs else None
            if value is not None and not isinstance(value, (dict, list)):
                shown = load_world().in_text(value) if isinstance(value, str) else self._value_of(ref.task)
                text = text.replace(_refer(self._tasks[ref.task]), shown)
        return text

    def _value_of(self, index: int) -> str:
        """A sub-task's answer with its unit ("412.5 km"); lists and records read as text."""
        value = self._answer(index)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return with_unit(value, self._unit(index))
        return _say(value)

    def _unit(self, index: int) -> str | None:
        """The sub-task's unit, with a {name} in it replaced by that step input ("{currency}" -> "EUR")."""
        unit = self._tasks[index].unit
        if not unit or "{" not in unit:
            return unit
        try:
            return unit.format(**{name: _say(value) for name, value in self._inputs(index).items()})
        except (KeyError, IndexError):
            return None

    def _call(self, index: int) -> FunctionCall:
        step = self._tasks[index].step
        assert step is not None and step.function is not None
        self._calls_made += 1
        call_id = f"call_{self._calls_made}"
        self._pending[call_id] = index
        arguments = json.dumps(self._inputs(index), ensure_ascii=False)
        return FunctionCall(id=call_id, name=step.function, arguments=arguments)

    def _thought(self, batch: list[int]) -> str:
        parts = [self._recap()] if self._learned else []
        needs = " and ".join(self._called(i) for i in batch)
        parts.append(self._words.say("next" if self._outputs else "first", needs=needs))
        if len(batch) > 1:
            parts.append(self._words.say("parallel"))
        return " ".join(parts)

    def _recap(self) -> str:
        """What the last results said. The previous thought named what it asked for, so a
        result that follows it directly is often stated on its own ("It's Lima.")."""
        learned = self._learned
        requested = all(self._tasks[i].step is not None and self._tasks[i].step.function for i in learned)
        if requested and len(learned) <= 2 and self._words.rng.random() < 0.6:
            if len(learned) == 1:
                return self._words.say("learned_one", v=self._describe(learned[0]))
            return self._words.say("learned_two", va=self._describe(learned[0]), vb=self._describe(learned[1]))
        return " ".join(self._words.say("learned", ref=self._called(i), v=self._describe(i)) for i in learned)

    def _final(self) -> FinalAnswerMessage:
        ends = sinks(self.context.task)
        answer = " ".join(self._conclude(i) for i in ends)
        stated = {p for i in ends for p in self._operands(i)}
        support = [i for i in range(len(self._tasks)) if i not in ends and i not in stated]
        if support:
            facts = "; ".join(f"{self._called(i)} is {self._describe(i)}" for i in support)
            tail = self._words.say("support", facts=facts)
            answer = f"{answer} {tail}" if tail else answer
        return FinalAnswerMessage(content=answer, thought=self._words.say("ready"), source=self.name)

    def _operands(self, index: int) -> list[int]:
        """Producers whose values the conclusion of a reasoning step states itself."""
        step = self._tasks[index].step
        if step is None or step.operation is None:
            return []
        return [ref.task for ref in step.bindings.values()]

    def _conclude(self, index: int) -> str:
        """The sentence that answers sub-task ``index``, worded for what it computed."""
        step = self._tasks[index].step
        assert step is not None
        operands = {name: ref.task for name, ref in step.bindings.items()}
        if step.operation in ("max_of", "min_of") and len(operands) == 2:
            return self._comparison(index, operands)
        if step.operation in ("difference", "days_between") and set(operands) == {"a", "b"}:
            return self._difference(index, operands["a"], operands["b"], step.operation)
        if step.operation == "sum" and len(operands) == 2:
            a, b = sorted(operands.values())
            return self._words.say("total", **self._pair(a, b), v=self._value_of(index))
        if step.operation == "count" and len(operands) == 1:
            listed = self._called(next(iter(operands.values())))
            return self._words.say("count", ref=self._called(index), v=self._value_of(index), list=listed)
        return self._words.say("answer", ref=self._called(index), v=self._describe(index))

    def _pair(self, a: int, b: int) -> dict[str, str]:
        return {"a": self._called(a), "b": self._called(b), "va": self._value_of(a), "vb": self._value_of(b)}

    def _comparison(self, index: int, operands: dict[str, int]) -> str:
        chosen = self._answer(index)
        winner = operands.get(chosen) if isinstance(chosen, str) else None
        loser = next((task for name, task in operands.items() if name != chosen), None)
        if winner is None or loser is None:
            return self._words.say("answer", ref=self._called(index), v=self._describe(index))
        if self._answer(winner) == self._answer(loser):
            return self._words.say("tie", **self._pair(winner, loser), v=self._value_of(winner))
        adjective = choice_adjective(self._tasks[index])
        return self._words.say(
            "compare", win=self._called(winner), lose=self._called(loser),
            vw=self._value_of(winner), vl=self._value_of(loser), adj=adjective or "ahead",
        )

    def _difference(self, index: int, a: int, b: int, operation: str) -> str:
        """A signed result said by its sign: which side is higher (or later), and by how much."""
        result = self._answer(index)
        if not isinstance(result, (int, float)) or isinstance(result, bool):
            return self._words.say("answer", ref=self._called(index), v=self._describe(index))
        unit = self._unit(index)
        size = with_unit(abs(result), unit)
        fields = self._pair(a, b)
        if operation == "days_between":
            return self._words.say("days_after" if result >= 0 else "days_before", **fields, d=size)
        if result == 0:  # a tie still states the difference it was asked for
            return self._words.say("level", **fields, v=fields["va"], d=size)
        big, small = (a, b) if result > 0 else (b, a)
        up, down = _directions(unit)
        ordered = {"big": self._called(big), "small": self._called(small),
                   "vbig": self._value_of(big), "vsmall": self._value_of(small), "up": up, "down": down}
        asks_direction = _refer(self._tasks[index]).startswith("how much")
        return self._words.say("more" if asks_direction else "gap", **fields, **ordered, d=size)


def _directions(unit: str | None) -> tuple[str, str]:
    table = phrasebook("oracle")["directions"]
    up, down = table.get(unit or "", table["default"])
    return up, down


def _refer(task: AtomicTask) -> str:
    """A noun phrase for a sub-task's answer, in plain words (never an id)."""
    if task.reference:
        return task.reference
    return f'the answer to "{task.text.strip()}"'


def _say(value: Any) -> str:
    """A short human rendering of a result value."""
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_say(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_say(item) for item in value) or "nothing"
    if value is None:
        return "unknown"
    return str(value)
