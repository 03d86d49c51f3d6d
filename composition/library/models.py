"""The shape of one library entry: a typed atomic-task template plus how to solve it.

An entry is checked on its own here (placeholders match slots, the function really takes the
slots and returns the output field, the operation exists); checks that need the whole library
(semantic types, shared function names) live in the loader.
"""

from __future__ import annotations

import re
from string import Formatter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from composition.models import FunctionSpec
from composition.operations import OPERATIONS

ENTRY_ID_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
LiteralValue = str | int | float | list[str]
ARTICLE = re.compile(r"^(the|a|an)\s", re.IGNORECASE)
INDEFINITE_A = re.compile(r"\b([Aa]) \{value\}")
VOWELS = frozenset("aeiou")


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a format template."""
    return {field for _, field, _, _ in Formatter().parse(template) if field is not None}


class SlotSpec(BaseModel):
    """A typed hole in a template: literal examples fill it, or a producer's reference does."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, description="Semantic type, a key of types.json.")
    kind: str | None = Field(
        default=None,
        description="The narrower kind of answer this slot accepts (a kind in types.json); defaults to the type.",
    )
    examples: list[LiteralValue] = Field(min_length=2, max_length=4)
    world: str | None = Field(
        default=None,
        description="A collection of the world (composition.world) whose names fill this slot when "
        "composing against the world, e.g. 'city'; the examples are then a few of its members.",
    )
    literal_format: str = Field(
        default="{value}", description="How a literal reads in text, e.g. '{value} minutes'."
    )

    @field_validator("examples")
    @classmethod
    def _bare_values(cls, examples: list[LiteralValue]) -> list[LiteralValue]:
        for value in examples:
            if isinstance(value, str) and ARTICLE.match(value):
                raise ValueError(
                    f"{value!r} starts with an article; a function argument carries the bare value, "
                    "so put the article in literal_format, e.g. 'the {value}'"
                )
        return examples

    @field_validator("literal_format")
    @classmethod
    def _has_value(cls, text: str) -> str:
        if placeholders(text) != {"value"}:
            raise ValueError("must contain exactly the placeholder {value}")
        return text

    @property
    def accepts(self) -> str:
        """The kind a producer's answer must be (or descend from) to fill this slot."""
        return self.kind or self.type

    def render(self, value: Any) -> str:
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        template = self.literal_format
        if shown[:1].lower() in VOWELS:  # "a {value}" reads "an allergist", "an ENT specialist"
            template = INDEFINITE_A.sub(r"\1n {value}", template)
        return template.format(value=shown)


class LibraryEntry(BaseModel):
    """One atomic task of the library, solved by one function call or one reasoning operation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ENTRY_ID_PATTERN)
    domain: str = Field(min_length=1)
    template: str = Field(min_length=1, description="The task text with {slot} placeholders.")
    slots: dict[str, SlotSpec] = Field(min_length=1)
    output_type: str = Field(min_length=1)
    output_kind: str | None = Field(
        default=None, description="The narrower kind of the answer (a kind in types.json); defaults to the type."
    )
    reference: str = Field(min_length=1, description="A noun phrase naming the answer.")
    scenario: str = Field(min_length=1)
    function: FunctionSpec | None = None
    operation: str | None = None
    output_field: str | None = None
    unit: str | None = Field(
        default=None,
        description="Unit of the answer ('USD', 'km'); a {slot} stands for that argument's value. "
        "Defaults to the unit types.json gives the output kind.",
    )
    avoid_after: tuple[str, ...] = Field(
        default=(), description="Entries whose answer must not feed this one, since the result is trivial."
    )

    @model_validator(mode="after")
    def _consistent(self) -> LibraryEntry:
        for name in ("template", "reference"):
            found = placeholders(getattr(self, name))
            if found != set(self.slots):
                raise ValueError(f"{name} placeholders {sorted(found)} differ from slots {sorted(self.slots)}")
        if (self.function is None) == (self.operation is None):
            raise ValueError("an entry has exactly one of 'function' and 'operation'")
        if self.operation is not None:
            if self.operation not in OPERATIONS:
                raise ValueError(f"operation {self.operation!r} unknown; allowed: {', '.join(sorted(OPERATIONS))}")
            if self.output_field is not None:
                raise ValueError("output_field: reasoning entries answer with the whole result")
            accepted = sorted({spec.accepts for spec in self.slots.values()})
            if len(accepted) != 1:
                raise ValueError(f"slots: a reasoning entry combines one kind of value, got kinds {accepted}")
            return self
        self._check_function(self.function)
        return self

    def _check_function(self, spec: FunctionSpec) -> None:
        parameters = spec.parameters.get("properties", {})
        unknown = sorted(set(self.slots) - set(parameters))
        if unknown:
            raise ValueError(f"slots {unknown} are not parameters of {spec.name}")
        unfilled = sorted(set(spec.required) - set(self.slots))
        if unfilled:
            raise ValueError(f"required parameters {unfilled} of {spec.name} have no slot")
        if self.output_field not in spec.responses.get("properties", {}):
            raise ValueError(f"output_field {self.output_field!r} is not in the responses of {spec.name}")

    @property
    def produces(self) -> str:
        """The kind of this entry's answer: what a consumer slot's ``accepts`` is matched against."""
        return self.output_kind or self.output_type

    @property
    def is_reasoning(self) -> bool:
        return self.operation is not None

    def output_schema(self) -> dict[str, Any] | None:
        """The responses property that answers the task (None for reasoning entries)."""
        if self.function is None:
            return None
        return self.function.responses["properties"][self.output_field]

    def parameter_schema(self, slot: str) -> dict[str, Any] | None:
        if self.function is None:
            return None
        return self.function.parameters["properties"][slot]
