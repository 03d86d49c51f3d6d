"""Prompt templates of the LLM stages: ``prompts/<name>.md``, read at run time.

Templates use ``$name`` placeholders (string.Template), so JSON examples with braces in a
prompt need no escaping. A placeholder left without a value is an error naming it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

PROMPTS = Path(__file__).parent / "prompts"


@cache
def _template(name: str) -> Template:
    path = PROMPTS / f"{name}.md"
    if not path.is_file():
        available = sorted(p.stem for p in PROMPTS.glob("*.md"))
        raise FileNotFoundError(f"no prompt template {name!r} at {path}; available: {available}")
    return Template(path.read_text(encoding="utf-8").strip())


def render(name: str, **values: object) -> str:
    try:
        return _template(name).substitute({key: str(value) for key, value in values.items()})
    except KeyError as error:
        raise KeyError(f"prompt template {name!r} needs a value for {error.args[0]!r}") from None
