"""OpenAI chat fine-tuning layout: ``messages`` with native ``tool_calls``, ``tools``, ``parallel_tool_calls``."""

from __future__ import annotations

from typing import Any

from environment.export.base import CallTurn, Exporter, UserTurn, dumps, register_exporter, result_payload, turns
from environment.export.system_prompt import render_system_prompt
from environment.trajectory import Trajectory


@register_exporter
class OpenAIExporter(Exporter):
    """A call turn is one assistant message (content: the thought, or null) with ``tool_calls``
    whose arguments are JSON strings, then one ``tool`` message per call, in call order."""

    name = "openai"
    filename = "openai.jsonl"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        system = render_system_prompt("native", trajectory.functions, trajectory.parallel_calls)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for turn in turns(trajectory):
            if isinstance(turn, UserTurn):
                messages.append({"role": "user", "content": turn.text})
            elif isinstance(turn, CallTurn):
                tool_calls = [
                    {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": dumps(call.arguments)}}
                    for call in turn.calls
                ]
                messages.append({"role": "assistant", "content": turn.thought.strip() or None, "tool_calls": tool_calls})
                messages.extend(
                    {"role": "tool", "tool_call_id": result.call_id, "content": dumps(result_payload(result))}
                    for result in turn.results
                )
            else:
                messages.append({"role": "assistant", "content": turn.text})
        return {
            "messages": messages,
            "tools": [spec.to_openai_tool() for spec in trajectory.functions],
            "parallel_tool_calls": trajectory.parallel_calls,
        }
