"""LLaMA-Factory sharegpt with tools: ``conversations`` of human/gpt/function_call/observation.

LLaMA-Factory wants user-side entries (human, observation) at even positions and
assistant-side ones (gpt, function_call) at odd positions, strictly alternating. A trajectory
maps onto that one to one: the user's request and answers become ``human``, a call turn
becomes ``function_call`` followed by its ``observation``, questions and the final answer
become ``gpt``. Two same-side turns in a row (two user messages, two assistant replies, a tool
turn not answering calls) are refused by the turn regrouping in ``base.turns`` rather than
merged, because merging would put words in someone's mouth; so alternation always holds.

Several calls in one turn: the ``function_call`` value is a JSON list of
``{"name", "arguments"}`` and the ``observation`` a JSON list of the results in the same order
(LLaMA-Factory's function formatter accepts a list as parallel calls). A single call is one
``{"name", "arguments"}`` object and its observation the result itself. Thoughts are left out
of ``function_call`` values, which LLaMA-Factory parses as pure JSON; ``gpt`` entries carry
what the assistant says to the user.
"""

from __future__ import annotations

from typing import Any

from environment.export.base import CallTurn, Exporter, UserTurn, dumps, register_exporter, result_payload, turns
from environment.export.system_prompt import render_system_prompt
from environment.trajectory import Trajectory

@register_exporter
class ShareGPTExporter(Exporter):
    name = "sharegpt"
    filename = "sharegpt.jsonl"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        conversations: list[dict[str, str]] = []
        for turn in turns(trajectory):
            if isinstance(turn, UserTurn):
                conversations.append({"from": "human", "value": turn.text})
            elif isinstance(turn, CallTurn):
                calls = [{"name": call.name, "arguments": call.arguments} for call in turn.calls]
                results = [result_payload(result) for result in turn.results]
                single = len(calls) == 1
                conversations.append({"from": "function_call", "value": dumps(calls[0] if single else calls)})
                conversations.append({"from": "observation", "value": dumps(results[0] if single else results)})
            else:
                conversations.append({"from": "gpt", "value": turn.text})
        tools = [{"name": s.name, "description": s.description, "parameters": s.parameters} for s in trajectory.functions]
        return {
            "conversations": conversations,
            "system": render_system_prompt("native", trajectory.functions, trajectory.parallel_calls),
            "tools": dumps(tools),
        }
