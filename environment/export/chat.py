"""The chat-messages layout shared by the OpenAI and ``hf`` exports.

Both write a system prompt, then user, assistant and tool messages: a call turn is one
assistant message (its thought as content) with ``tool_calls``, followed by one ``tool``
message per call in call order, each naming the call it answers by ``tool_call_id``. They
differ only where their consumers differ: how ``function.arguments`` is written, whether a
tool message carries the function's ``name``, and where hidden reasoning may go.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.system_prompt import render_system_prompt
from environment.export.base import CallTurn, UserTurn, dumps, result_payload, turns
from environment.trajectory import Trajectory


def chat_messages(
    trajectory: Trajectory,
    *,
    arguments: Callable[[dict[str, Any]], Any],
    empty_content: str | None,
    tool_name: bool,
    reasoning_field: str | None = None,
) -> list[dict[str, Any]]:
    """``arguments`` renders a call's arguments; ``empty_content`` stands for a call turn
    without a thought; ``reasoning_field`` names the assistant field that receives the
    message's hidden reasoning (None: reasoning is left out)."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": render_system_prompt("native", trajectory.functions, trajectory.parallel_calls)}
    ]
    for turn in turns(trajectory):
        if isinstance(turn, UserTurn):
            messages.append({"role": "user", "content": turn.text})
            continue
        message: dict[str, Any] = {"role": "assistant"}
        if isinstance(turn, CallTurn):
            message["content"] = turn.thought.strip() or empty_content
            message["tool_calls"] = [
                {"id": ident, "type": "function", "function": {"name": call.name, "arguments": arguments(call.arguments)}}
                for ident, call in zip(turn.ids, turn.calls)
            ]
        else:
            message["content"] = turn.text
        if reasoning_field and turn.reasoning.strip():
            message[reasoning_field] = turn.reasoning.strip()
        messages.append(message)
        if isinstance(turn, CallTurn):
            for ident, call, result in zip(turn.ids, turn.calls, turn.results):
                answer = {"role": "tool", "tool_call_id": ident, "content": dumps(result_payload(result))}
                if tool_name:
                    answer["name"] = call.name
                messages.append(answer)
    return messages
