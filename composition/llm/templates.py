"""Prompt templates, ``<folder>/<name>.md``, read at run time: the LLM stages' (``render``) and,
through ``fill``, the LLM roles' (agents/llm/prompts).

Templates use ``$name`` placeholders (string.Template), so JSON examples with braces in a
prompt need no escaping. A placeholder left without a value is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).parent / "prompts"


@cache
def _template(folder: Path, name: str) -> Template:
    path = folder / f"{name}.md"
    if not path.is_file():
        available = sorted(p.stem for p in folder.glob("*.md"))
        raise FileNotFoundError(f"no prompt template {name!r} at {path}; available: {available}")
    return Template(path.read_text(encoding="utf-8").strip())


def fill(folder: Path, name: str, values: Mapping[str, object]) -> str:
    """``<folder>/<name>.md`` with its placeholders filled; a missing value is an error naming it."""
    try:
        return _template(folder, name).substitute({key: str(value) for key, value in values.items()})
    except KeyError as error:
        raise KeyError(f"prompt template {name!r} needs a value for {error.args[0]!r}") from None


def render(name: str, **values: object) -> str:
    """A stage prompt, ``composition/llm/prompts/<name>.md``, filled."""
    return fill(PROMPTS, name, values)
