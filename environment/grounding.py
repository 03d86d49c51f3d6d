"""ungrounded_argument: every argument value of a call was given, not invented.

A value is grounded when, before the call's turn, the user said it or a tool result held it
(compared by :class:`~environment.mentions.Mentions`: case, spacing, punctuation, number and
date formats do not matter), or when the parameter's schema supplies it (``enum``, ``const``,
``default``). An assistant that calls ``get_city_info("Lyon")`` after the user only said "a
certain city" is rejected.

Values worked out by reasoning (a sum of two prices passed on to a currency converter) are
neither said nor returned. For tasks with a gold plan, the values its reasoning steps derive
from the conversation's own results count as grounded. For tasks without one (written by an
LLM) such derived values are not recognised and the call is rejected: the known gap is
decided in favour of dropping a good conversation over keeping an invented value. What the
assistant itself wrote never grounds a value, or it could ground anything by saying it first.
Booleans, nulls and empty strings carry no checkable content and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from composition.models import CompositionalTask
from composition.values import leaves
from environment.check import Check
from environment.mentions import Mentions, same_value
from environment.recorded import recorded_run
from environment.trajectory import Message, ToolCall, Trajectory


def schema_leaves(value: Any, schema: Any, path: str) -> Iterator[tuple[str, Any, dict[str, Any]]]:
    """(path, leaf, the leaf's own schema) for every scalar leaf of an argument value."""
    schema = schema if isinstance(schema, dict) else {}
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            yield from schema_leaves(item, properties.get(key), f"{path}.{key}")
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from schema_leaves(item, schema.get("items"), f"{path}[{position}]")
    else:
        yield path, value, schema


def schema_supplies(schema: dict[str, Any], value: Any) -> bool:
    """Whether the parameter's own schema offers the value (an enum member, its const or default)."""
    offered = [*schema.get("enum", [])]
    offered += [schema[key] for key in ("const", "default") if key in schema]
    return any(same_value(value, choice) for choice in offered)


def carries_content(value: Any) -> bool:
    return not (isinstance(value, bool) or value is None or (isinstance(value, str) and not value.strip()))


class Evidence:
    """What the assistant had been told up to a point: user turns and tool results, read once."""

    def __init__(self, derived: list[Any]) -> None:
        self._heard: list[Mentions] = []
        self._derived = [leaf for value in derived for leaf in leaves(value)]

    def hear(self, message: Message) -> None:
        if message.role == "user" and message.content.strip():
            self._heard.append(Mentions(message.content))
        elif message.role == "tool":
            said = [
                str(leaf) for result in message.tool_results if result.error is None for leaf in leaves(result.results)
            ]
            if said:
                self._heard.append(Mentions("\n".join(said)))

    def grounds(self, value: Any) -> bool:
        return any(heard.mentions(value) for heard in self._heard) or any(
            same_value(value, derived) for derived in self._derived
        )


def call_groundings(trajectory: Trajectory, task: CompositionalTask) -> Iterator[tuple[ToolCall, str | None]]:
    """Every call, in order, with its first invented argument described (None when all are grounded)."""
    run = recorded_run(trajectory, task)
    evidence = Evidence(run.derived() if run is not None else [])
    specs = {spec.name: spec for spec in trajectory.functions}
    recovered = trajectory.recovered_call_ids  # refused by the environment, corrected later: never run
    for message in trajectory.messages:
        for call in message.tool_calls:
            if call.id not in recovered:
                yield call, _invented(call, specs[call.name].parameters if call.name in specs else {}, evidence)
        evidence.hear(message)


def _invented(call: ToolCall, parameters: dict[str, Any], evidence: Evidence) -> str | None:
    for path, value, schema in schema_leaves(call.arguments, parameters, call.name):
        if carries_content(value) and not schema_supplies(schema, value) and not evidence.grounds(value):
            return f"{path} ({call.id}) = {value!r} was neither said by the user nor returned by an earlier call"
    return None


class GroundedArguments(Check):
    name = "grounded_arguments"
    reason = "ungrounded_argument"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        return next((problem for _, problem in call_groundings(trajectory, task) if problem is not None), None)
