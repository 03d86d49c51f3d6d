"""OpenAI chat fine-tuning layout: ``messages`` with native ``tool_calls``, ``tools``, ``parallel_tool_calls``."""

from __future__ import annotations

from typing import Any

from environment.export.base import CallTurn, Exporter, UserTurn, dumps, register_exporter, result_payload, turns
from environment.export.system_prompt import render_system_prompt
from environment.trajectory import Trajectory


def _unique(call_id: str, seen: set[str]) -> str:
    """The call's own id, suffixed when an endpoint reused it, so every tool_call_id names one call."""
    ident, number = call_id, 1
    while ident in seen:
        number += 1
        ident = f"{call_id}_{number}"
    seen.add(ident)
    return ident


@register_exporter
class OpenAIExporter(Exporter):
    """A call turn is one assistant message (content: the thought, or null) with ``tool_calls``
    whose arguments are JSON strings, then one ``tool`` message per call, in call order."""

    name = "openai"
    filename = "openai.jsonl"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        system = render_system_prompt("native", trajectory.functions, trajectory.parallel_calls)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        seen: set[str] = set()
        for turn in turns(trajectory):
            if isinstance(turn, UserTurn):
                messages.append({"role": "user", "content": turn.text})
            elif isinstance(turn, CallTurn):
                ids = [_unique(call.id, seen) for call in turn.calls]
                tool_calls = [
                    {"id": ident, "type": "function", "function": {"name": call.name, "arguments": dumps(call.arguments)}}
                    for ident, call in zip(ids, turn.calls)
                ]
                messages.append({"role": "assistant", "content": turn.thought.strip() or None, "tool_calls": tool_calls})
                messages.extend(
                    {"role": "tool", "tool_call_id": ident, "content": dumps(result_payload(result))}
                    for ident, result in zip(ids, turn.results)
                )
            else:
                messages.append({"role": "assistant", "content": turn.text})
        return {
            "messages": messages,
            "tools": [spec.to_openai_tool() for spec in trajectory.functions],
            "parallel_tool_calls": trajectory.parallel_calls,
        }
