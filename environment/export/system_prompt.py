"""The training-view system prompts, rendered from template files in ``templates/``.

Two wordings exist: ``tags`` (the paper's ``<call>``/``<final>`` text protocol, tools listed as
JSON inside ``<tool></tool>``) and ``native`` (tools travel in the record's own ``tools``
field). Both state whether independent calls may share a turn. Neither ever receives the
generation-time sub-task decomposition: the functions and the parallel flag are all they get.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from string import Template
from typing import Literal

from composition.models import FunctionSpec

Protocol = Literal["tags", "native"]


@cache
def read_template(name: str) -> str:
    """Text of ``templates/<name>.txt`` without its trailing newline."""
    return (files("environment.export") / "templates" / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")


def parallel_rule(parallel_calls: bool) -> str:
    return read_template("parallel_allowed" if parallel_calls else "parallel_forbidden")


def tools_json(functions: list[FunctionSpec]) -> str:
    """The tool list as the tags prompt shows it: name, description, parameters, responses."""
    return json.dumps([spec.model_dump(mode="json") for spec in functions], ensure_ascii=False)


def render_system_prompt(protocol: Protocol, functions: list[FunctionSpec], parallel_calls: bool) -> str:
    template = Template(read_template(f"system_{protocol}"))
    return template.substitute(tools=tools_json(functions), parallel_rule=parallel_rule(parallel_calls))


def stated_parallel_rule(system_prompt: str) -> bool | None:
    """What a system prompt says about parallel calls: True, False, or None when it says neither."""
    allowed = parallel_rule(True) in system_prompt
    forbidden = parallel_rule(False) in system_prompt
    return allowed if allowed != forbidden else None
