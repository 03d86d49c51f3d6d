"""Hand-built compositional tasks for tests: small, readable, with gold steps the oracle runs.

Reusable by any test that needs a task without the library: a sequential chain, a
parallel-then-sequential DAG, one ending in a reasoning step, and one without gold steps
(as an LLM would write it).
"""

from __future__ import annotations

from typing import Any

from composition.ids import content_id
from composition.models import AtomicTask, CompositionalTask, FunctionSpec, OutputRef, Step, union_functions


def spec(name: str, description: str, parameters: dict[str, Any], responses: dict[str, Any]) -> FunctionSpec:
    """A function whose parameters and response properties are all required."""
    return FunctionSpec(
        name=name,
        description=description,
        parameters={
            "type": "object",
            "properties": parameters,
            "required": list(parameters),
        },
        responses={"type": "object", "properties": responses, "required": list(responses)},
    )


STRING = {"type": "string"}

BOOK_AUTHOR = spec(
    "get_book_author",
    "Find who wrote a book.",
    {"title": STRING},
    {"title": STRING, "author": STRING, "published_year": {"type": "integer", "minimum": 1000, "maximum": 2025}},
)
BIRTH_DATE = spec(
    "get_birth_date",
    "Look up when a person was born.",
    {"person": STRING},
    {"person": STRING, "birth_date": {"type": "string", "format": "date"}, "birthplace": STRING},
)
CAPITAL = spec(
    "get_capital",
    "Name the capital city of a country.",
    {"country": STRING},
    {"country": STRING, "capital": STRING, "population": {"type": "integer", "minimum": 1000}},
)
FLIGHT_TIME = spec(
    "get_flight_time",
    "Typical non-stop flight duration between two cities.",
    {"origin": STRING, "destination": STRING},
    {"origin": STRING, "destination": STRING, "duration_hours": {"type": "number", "minimum": 0.5, "maximum": 20}},
)
WEATHER = spec(
    "get_weather",
    "Current weather in a city.",
    {"city": STRING, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
    {"city": STRING, "temperature": {"type": "number", "minimum": -30, "maximum": 45}, "condition": STRING},
)


def atomic(
    text: str, reference: str, functions: list[FunctionSpec], step: Step | None, output_type: str = "text"
) -> AtomicTask:
    return AtomicTask(
        id=content_id("atomic", text),
        text=text,
        functions=functions,
        reference=reference,
        output_type=output_type,
        step=step,
    )


def compose(text: str, strategy: str, tasks: list[AtomicTask], edges: list[tuple[int, int]]) -> CompositionalTask:
    return CompositionalTask(
        id=content_id("task", [text, [t.id for t in tasks], edges]),
        text=text,
        strategy=strategy,
        atomic_tasks=tasks,
        edges=edges,
        functions=union_functions(tasks),
    )


def sequential_task() -> CompositionalTask:
    """Who wrote Dune -> when was that person born."""
    author = atomic(
        "Who wrote the novel Dune?",
        "the author of Dune",
        [BOOK_AUTHOR],
        Step(function="get_book_author", arguments={"title": "Dune"}, output_field="author"),
        "person",
    )
    born = atomic(
        "When was the author of Dune born?",
        "the birth date of the author of Dune",
        [BIRTH_DATE],
        Step(function="get_birth_date", bindings={"person": OutputRef(task=0, field="author")}, output_field="birth_date"),
        "date",
    )
    return compose("When was the author of the novel Dune born?", "sequential", [author, born], [(0, 1)])


def parallel_then_sequential_task() -> CompositionalTask:
    """Two capitals looked up independently, then the flight time between them."""
    france = atomic(
        "What is the capital of France?",
        "the capital of France",
        [CAPITAL],
        Step(function="get_capital", arguments={"country": "France"}, output_field="capital"),
        "city",
    )
    japan = atomic(
        "What is the capital of Japan?",
        "the capital of Japan",
        [CAPITAL],
        Step(function="get_capital", arguments={"country": "Japan"}, output_field="capital"),
        "city",
    )
    flight = atomic(
        "How long is the flight between the capitals of France and Japan?",
        "the flight time between the capitals of France and Japan",
        [FLIGHT_TIME],
        Step(
            function="get_flight_time",
            bindings={"origin": OutputRef(task=0, field="capital"), "destination": OutputRef(task=1, field="capital")},
            output_field="duration_hours",
        ),
        "duration",
    )
    return compose(
        "How long does it take to fly from the capital of France to the capital of Japan?",
        "parallel_then_sequential",
        [france, japan, flight],
        [(0, 2), (1, 2)],
    )


def weather(city: str) -> AtomicTask:
    return atomic(
        f"What is the temperature in {city} right now?",
        f"the temperature in {city}",
        [WEATHER],
        Step(function="get_weather", arguments={"city": city, "unit": "celsius"}, output_field="temperature"),
        "temperature",
    )


def reasoning_task() -> CompositionalTask:
    """Two weather look-ups, then a reasoning step (the temperature difference), no function."""
    difference = atomic(
        "How much warmer is Lisbon than Oslo?",
        "how much warmer Lisbon is than Oslo, in degrees",
        [],
        Step(operation="difference", bindings={"a": OutputRef(task=1), "b": OutputRef(task=0)}),
        "number",
    )
    return compose(
        "How many degrees warmer is it in Lisbon than in Oslo right now?",
        "parallel_then_sequential",
        [weather("Oslo"), weather("Lisbon"), difference],
        [(0, 2), (1, 2)],
    )


def comparison_task() -> CompositionalTask:
    """Two weather look-ups, then a reasoning step that picks one of them (the warmer city)."""
    warmer = atomic(
        "Which is warmer right now, Oslo or Lisbon?",
        "the warmer of the temperatures in Oslo and Lisbon",
        [],
        Step(operation="max_of", bindings={"a": OutputRef(task=0), "b": OutputRef(task=1)}),
        "choice",
    )
    return compose(
        "Is it warmer in Oslo or in Lisbon right now?",
        "parallel_then_sequential",
        [weather("Oslo"), weather("Lisbon"), warmer],
        [(0, 2), (1, 2)],
    )


def unplanned_task() -> CompositionalTask:
    """A task as a language model writes it: functions but no gold steps."""
    task = sequential_task()
    stripped = [t.model_copy(update={"step": None}) for t in task.atomic_tasks]
    return task.model_copy(update={"atomic_tasks": stripped, "id": task.id + "-unplanned"})
