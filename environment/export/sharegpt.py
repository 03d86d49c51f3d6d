"""LLaMA-Factory sharegpt with tools: ``conversations`` of human/gpt/function_call/observation.

LLaMA-Factory wants user-side entries (human, observation) at even positions and
assistant-side ones (gpt, function_call) at odd positions, strictly alternating. A trajectory
maps onto that one to one: the user's request and answers become ``human``, a call turn
becomes ``function_call`` followed by its ``observation``, questions and the final answer
become ``gpt``. Two same-side turns in a row (two user messages, two assistant replies, a tool
turn not answering calls) are refused by the turn regrouping in ``base.turns`` rather than
merged, because merging would put words in someone's mouth; so alternation always holds.

A ``function_call`` value is the calls as JSON: one ``{"name", "arguments"}`` object, or a
list of them for several calls in one turn (LLaMA-Factory's function formatter takes a list as
parallel calls). When the assistant said something before calling (its thought), the value is
``<thought>\\n<tool_call><JSON></tool_call>``: LLaMA-Factory (0.9.4 and later) cuts the JSON
out of its ``tool_call_words`` (``<tool_call>``/``</tool_call>`` unless a template sets others)
and renders the thought in front of the template's call markup, as Qwen's and Hermes' chat
templates do with an assistant message's content. Templates that cannot read it (the Mistral
family, whose encoder passes no tool-call words, and lfm2 with words of its own; see
docs/exports.md) need option ``thoughts: false``: the bare JSON, the thought dropped.

An observation cannot be followed by another (alternation), so several results share one:
by default a JSON list of them, in call order, which every LLaMA-Factory template carries
intact (Mistral's wraps it in ``{"content": ...}``). Option ``parallel_results: tool_response``
joins them as LLaMA-Factory's own OpenAI-format converter joins consecutive tool messages
(``\n</tool_response>\n<tool_response>\n``): inside the ``<tool_response>`` wrapper of the
qwen, qwen3, mimo and bailing templates that gives one block per result, as those models see
at inference; in templates without that wrapper the tags would leak into the text.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from agents.system_prompt import render_system_prompt
from environment.export.base import CallTurn, Exporter, UserTurn, dumps, result_payload, turns
from environment.trajectory import Trajectory

TOOL_CALL_OPEN, TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"
RESULT_SEPARATOR = "\n</tool_response>\n<tool_response>\n"


class ShareGPTOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    thoughts: bool = True
    parallel_results: Literal["list", "tool_response"] = "list"


class ShareGPTExporter(Exporter):
    name = "sharegpt"
    filename = "sharegpt.jsonl"
    summary = "LLaMA-Factory sharegpt with tools (`function_call` / `observation` turns)"
    Options = ShareGPTOptions

    def describe(self) -> str:
        thoughts = (
            "a thought before a call is written as `thought\\n<tool_call>JSON</tool_call>` (LLaMA-Factory 0.9.4 or "
            "later; its mistral, ministral and lfm2 templates cannot read it)"
            if self.options.thoughts
            else "thoughts before calls are left out"
        )
        results = (
            "parallel results joined as `<tool_response>` blocks (qwen-style templates)"
            if self.options.parallel_results == "tool_response"
            else "parallel results as one JSON list"
        )
        return f"{self.summary}; {thoughts}; {results}"

    def _function_call(self, turn: CallTurn) -> str:
        calls = [{"name": call.name, "arguments": call.arguments} for call in turn.calls]
        value = dumps(calls[0] if len(calls) == 1 else calls)
        thought = turn.thought.strip()
        if self.options.thoughts and thought:
            return f"{thought}\n{TOOL_CALL_OPEN}{value}{TOOL_CALL_CLOSE}"
        return value

    def _observation(self, turn: CallTurn) -> str:
        results = [result_payload(result) for result in turn.results]
        if len(results) == 1:
            return dumps(results[0])
        if self.options.parallel_results == "tool_response":
            return RESULT_SEPARATOR.join(dumps(result) for result in results)
        return dumps(results)

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        conversations: list[dict[str, str]] = []
        for turn in turns(trajectory):
            if isinstance(turn, UserTurn):
                conversations.append({"from": "human", "value": turn.text})
            elif isinstance(turn, CallTurn):
                conversations.append({"from": "function_call", "value": self._function_call(turn)})
                conversations.append({"from": "observation", "value": self._observation(turn)})
            else:
                conversations.append({"from": "gpt", "value": turn.text})
        tools = [{"name": s.name, "description": s.description, "parameters": s.parameters} for s in trajectory.functions]
        return {
            "conversations": conversations,
            "system": render_system_prompt("native", trajectory.functions, trajectory.parallel_calls),
            "tools": dumps(tools),
        }
