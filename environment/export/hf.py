"""``hf`` layout: what ``tokenizer.apply_chat_template(messages, tools=tools)`` expects.

The messages are those of the OpenAI layout with two changes that chat templates need:
``function.arguments`` is a JSON object (templates write it with ``tojson`` or walk its
items; a string comes out escaped, or makes them raise), and every tool message names its
function in ``name`` (FunctionGemma's, Jamba's and Kimi K3's templates print it, and
without it write a placeholder or nothing). ``tools`` are the
OpenAI-style tool objects that ``apply_chat_template`` passes to the template as they are.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from environment.export.base import Exporter
from environment.export.chat import chat_messages
from environment.trajectory import Trajectory

REASONING_FIELD = "reasoning_content"


class HFOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasoning: bool = False
    """Write an assistant message's hidden reasoning in ``reasoning_content`` (the field the
    Qwen3, QwQ, DeepSeek-R1, GLM and Kimi templates read); off, reasoning stays out."""


class HFExporter(Exporter):
    name = "hf"
    filename = "hf.jsonl"
    summary = (
        "messages + tools for `tokenizer.apply_chat_template(messages, tools=tools)` (TRL, axolotl, LLaMA-Factory's "
        "HF path): call arguments are JSON objects, tool messages carry `name` and `tool_call_id`"
    )
    Options = HFOptions

    def describe(self) -> str:
        if self.options.reasoning:
            return self.summary + "; the model's reasoning is in `reasoning_content`"
        return self.summary

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        messages = chat_messages(
            trajectory,
            arguments=dict,
            empty_content="",
            tool_name=True,
            reasoning_field=REASONING_FIELD if self.options.reasoning else None,
        )
        return {"messages": messages, "tools": [spec.to_openai_tool() for spec in trajectory.functions]}
