"""The bottom-up phase's data types: functions, atomic tasks and compositional tasks.

Every type is a pydantic v2 model that round-trips through JSON; a JSONL file on disk is just
their serialized form. Function specs are checked against the JSON-Schema meta-schema here, so
an invalid one can never travel further down the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from composition.schemas import meta_schema_problem

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


class FunctionSpec(BaseModel):
    """A callable tool as the assistant sees it, plus the schema of what it returns."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=IDENTIFIER_PATTERN, description="A Python-style identifier.")
    description: str = Field(min_length=1)
    parameters: dict[str, Any] = Field(description="JSON Schema of the arguments (type object).")
    responses: dict[str, Any] = Field(description="JSON Schema of the results (type object).")

    @field_validator("parameters", "responses")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        problem = meta_schema_problem(schema)
        if problem is not None:
            raise ValueError(f"not a valid JSON Schema: {problem}")
        if schema.get("type") != "object":
            raise ValueError("must be a JSON Schema with type 'object'")
        properties = schema.get("properties", {})
        missing = [key for key in schema.get("required", []) if key not in properties]
        if missing:
            raise ValueError(f"required names unknown properties: {missing}")
        return schema

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    def to_openai_tool(self) -> dict[str, Any]:
        """The `tools` entry of the OpenAI chat-completions API (responses are not part of it)."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class OutputRef(BaseModel):
    """Marks an argument whose value is the output of an earlier atomic task."""

    model_config = ConfigDict(extra="forbid")

    task: int = Field(ge=0, description="Index of the producing atomic task.")
    field: str | None = Field(
        default=None, description="Key of the producer's output to use; None takes its whole answer."
    )


class Step(BaseModel):
    """The gold way to solve one atomic task: one function call, or one reasoning operation.

    The offline oracle executes steps; tasks written by a language model have no gold step.
    """

    model_config = ConfigDict(extra="forbid")

    function: str | None = Field(default=None, description="Name of the function to call.")
    operation: str | None = Field(
        default=None, description="Reasoning operation for steps without a function (e.g. 'max')."
    )
    arguments: dict[str, Any] = Field(default_factory=dict, description="Literal argument values.")
    bindings: dict[str, OutputRef] = Field(
        default_factory=dict, description="Arguments filled from earlier tasks' outputs."
    )
    output_field: str | None = Field(
        default=None, description="Key of the result that answers the task."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.function is None) == (self.operation is None):
            raise ValueError("a step has exactly one of 'function' and 'operation'")
        return self


class Scenario(BaseModel):
    """A short description of a situation in which someone needs help."""

    id: str
    text: str = Field(min_length=1)
    source: str = Field(default="", description="Where it came from: a seed record or a parent scenario.")


class AtomicTask(BaseModel):
    """A task solvable in one step; the building block of compositional tasks."""

    id: str
    text: str = Field(min_length=1)
    scenario: str = ""
    functions: list[FunctionSpec] = Field(default_factory=list)
    output_type: str | None = Field(default=None, description="Semantic type of the answer, e.g. 'person'.")
    reference: str | None = Field(
        default=None, description="A noun phrase naming the answer, e.g. 'the author of Dune'."
    )
    unit: str | None = Field(
        default=None,
        description="Unit of the answer, e.g. 'USD' or 'km'; a {name} in it is the step argument of that name.",
    )
    step: Step | None = None

    @property
    def is_reasoning(self) -> bool:
        """Pure reasoning sub-tasks (compare, count, compute) need no function."""
        return not self.functions


class CompositionalTask(BaseModel):
    """A task made of atomic tasks wired into a DAG; edge (i, j) means j consumes i's output."""

    id: str
    text: str = Field(min_length=1)
    strategy: str
    atomic_tasks: list[AtomicTask] = Field(min_length=1)
    edges: list[tuple[int, int]] = Field(default_factory=list)
    functions: list[FunctionSpec] = Field(default_factory=list)
    kept: bool = True
    reject_reason: str | None = None

    @model_validator(mode="after")
    def _edges_in_range(self) -> CompositionalTask:
        size = len(self.atomic_tasks)
        for source, target in self.edges:
            if not (0 <= source < size and 0 <= target < size):
                raise ValueError(f"edge {[source, target]} points outside the {size} atomic tasks")
        return self

    def producers(self, index: int) -> list[int]:
        return sorted(source for source, target in self.edges if target == index)

    def topological_layers(self) -> list[list[int]]:
        """Atomic-task indices grouped into layers whose members are mutually independent.

        Raises ValueError on a cycle; structural filters turn that into a rejection reason.
        """
        remaining = set(range(len(self.atomic_tasks)))
        layers: list[list[int]] = []
        while remaining:
            ready = sorted(i for i in remaining if not any(p in remaining for p in self.producers(i)))
            if not ready:
                raise ValueError(f"the dependency edges form a cycle among tasks {sorted(remaining)}")
            layers.append(ready)
            remaining.difference_update(ready)
        return layers

    def function(self, name: str) -> FunctionSpec | None:
        return next((spec for spec in self.functions if spec.name == name), None)

    def iter_function_tasks(self) -> Iterator[tuple[int, AtomicTask]]:
        return ((i, task) for i, task in enumerate(self.atomic_tasks) if task.functions)


def union_functions(tasks: list[AtomicTask]) -> list[FunctionSpec]:
    """All functions of the given tasks, each name once, in first-seen order."""
    seen: dict[str, FunctionSpec] = {}
    for task in tasks:
        for spec in task.functions:
            seen.setdefault(spec.name, spec)
    return list(seen.values())
