"""BUTTONInstruct layout: system/user/assistant/tool messages with the paper's text tags."""

from __future__ import annotations

from typing import Any

from agents.protocol import render_calls, render_final
from agents.system_prompt import render_system_prompt
from environment.export.base import CallTurn, Exporter, ReplyTurn, UserTurn, dumps, result_payload, turns
from environment.trajectory import Trajectory


def _joined(*parts: str) -> str:
    return "\n".join(part.strip() for part in parts if part.strip())


class ButtonExporter(Exporter):
    """Assistant turns are a thought then ``<call>[...]</call>`` or ``<final>...</final>``; a question
    to the user is plain text. A tool turn is a JSON list of ``{"name", "arguments", "results"}``
    pairing one to one, in order, with the calls before it."""

    name = "button"
    filename = "button.jsonl"
    summary = "the BUTTON paper's layout: `<call>` / `<final>` tags in plain text, tools in the system prompt"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        system = render_system_prompt("tags", trajectory.functions, trajectory.parallel_calls)
        messages: list[dict[str, str]] = [{"role": "system", "content": system}]
        for turn in turns(trajectory):
            if isinstance(turn, UserTurn):
                messages.append({"role": "user", "content": turn.text})
            elif isinstance(turn, CallTurn):
                calls = [{"name": call.name, "arguments": call.arguments} for call in turn.calls]
                messages.append({"role": "assistant", "content": render_calls(turn.thought, calls)})
                answers = [
                    {"name": call.name, "arguments": call.arguments, "results": result_payload(result)}
                    for call, result in zip(turn.calls, turn.results)
                ]
                messages.append({"role": "tool", "content": dumps(answers)})
            elif isinstance(turn, ReplyTurn) and turn.final:
                messages.append({"role": "assistant", "content": render_final(turn.thought, turn.text)})
            else:
                messages.append({"role": "assistant", "content": _joined(turn.thought, turn.text)})
        return {"id": trajectory.id, "messages": messages}
