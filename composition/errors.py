"""Errors that mean "the user asked for something we cannot do": shown as one line, exit non-zero."""

from pydantic import ValidationError


class ButtonError(Exception):
    """Base of user-facing errors; the message must name the problem and the allowed values."""


class ConfigurationError(ButtonError, ValueError):
    """A configuration value or input file is invalid."""


def field_problems(error: ValidationError, prefix: str = "", inputs: bool = True, root: str = "(root)") -> list[str]:
    """Each problem of a pydantic error as one line, ``prefix.field=input: message`` (without
    ``=input`` when ``inputs`` is false; ``root`` names a problem with the whole value)."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in (*([prefix] if prefix else []), *item["loc"])) or root
        shown = f"={item.get('input')!r}" if inputs else ""
        lines.append(f"{field}{shown}: {item['msg']}")
    return lines
