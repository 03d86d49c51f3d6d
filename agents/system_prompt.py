"""The assistant's system prompt: one text for the model at generation time and for the export.

The LLM assistant is told exactly what a model trained on the exported data is told: the
protocol's instructions (``prompts/assistant_<protocol>.md``), the functions (listed as JSON
inside ``<tool></tool>`` for ``tags``; ``native`` sends them in the request's own ``tools``) and
whether independent calls may share a turn. What generation adds (the private sub-task plan,
agents/llm/assistant.py) is appended after this text and never reaches an export.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from composition.llm.templates import fill
from composition.models import FunctionSpec

Protocol = Literal["tags", "native"]

PROMPTS = Path(__file__).parent / "prompts"


def functions_json(functions: Sequence[FunctionSpec]) -> str:
    """Functions as JSON with name, description, parameters and responses (the tags tool list)."""
    return json.dumps([spec.model_dump(mode="json") for spec in functions], ensure_ascii=False)


def parallel_rule(parallel_calls: bool) -> str:
    """The sentence stating whether independent calls may go together in one turn."""
    return fill(PROMPTS, "parallel_on" if parallel_calls else "parallel_off", {})


def render_system_prompt(protocol: Protocol, functions: Sequence[FunctionSpec], parallel_calls: bool) -> str:
    values = {"parallel_rule": parallel_rule(parallel_calls)}
    if protocol == "tags":
        values["tools"] = functions_json(functions)
    return fill(PROMPTS, f"assistant_{protocol}", values)


def stated_parallel_rule(system_prompt: str) -> bool | None:
    """What a system prompt says about parallel calls: True, False, or None when it says neither
    (export validation reads an exported record's rule back with this)."""
    allowed = parallel_rule(True) in system_prompt
    forbidden = parallel_rule(False) in system_prompt
    return allowed if allowed != forbidden else None
