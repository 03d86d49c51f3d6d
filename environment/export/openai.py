"""OpenAI chat fine-tuning layout: ``messages`` with native ``tool_calls``, ``tools``, ``parallel_tool_calls``."""

from __future__ import annotations

from typing import Any

from environment.export.base import Exporter, dumps
from environment.export.chat import chat_messages
from environment.trajectory import Trajectory


class OpenAIExporter(Exporter):
    """A call turn is one assistant message (content: the thought, or null) with ``tool_calls``
    whose arguments are JSON strings, as the fine-tuning API requires, then one ``tool``
    message per call, in call order. Tool messages carry no ``name``: the fine-tuning schema's
    tool message has only ``role``, ``content`` and ``tool_call_id``."""

    name = "openai"
    filename = "openai.jsonl"
    summary = "OpenAI chat fine-tuning: call arguments are JSON strings, plus `parallel_tool_calls`"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        return {
            "messages": chat_messages(trajectory, arguments=dumps, empty_content=None, tool_name=False),
            "tools": [spec.to_openai_tool() for spec in trajectory.functions],
            "parallel_tool_calls": trajectory.parallel_calls,
        }
