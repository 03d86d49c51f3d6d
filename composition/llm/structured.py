"""Ask a chat model for JSON: structured outputs, validation, bounded retries, explained failures.

The request carries ``response_format`` ``json_schema`` (what AutoGen's ``json_output=Model``
sends, strict whenever the schema allows it) but goes through the plain create call, so the
raw text and finish reason stay visible. Every answer passes the shared reader
(composition/llm/reading.py): reasoning is dropped and JSON is taken from fences or prose when
the server ignored ``response_format``. An answer that is not JSON, breaks the schema or is
cut off is fed back to the model and asked again, a bounded number of times. Whatever still
fails comes back as a :class:`Rejection` with a reason code; endpoint faults (after the model
client's own retries, agents/resilience.py) are rejections too, never exceptions.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import openai
from autogen_core.models import AssistantMessage, ChatCompletionClient, LLMMessage, SystemMessage, UserMessage
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ValidationError

from composition.errors import field_problems
from composition.llm.reading import json_text, read_answer
from composition.llm.wire import speaking_as
from composition.schemas import meta_schema_problem, validation_errors

log = logging.getLogger(__name__)

#: The reason of an answer the endpoint never gave (its faults outlasted the model client's retries).
ENDPOINT_ERROR = "endpoint_error"
#: Reason codes of the helper itself; a stage's ``check`` adds its own (retried like these).
NOT_RETRIED: frozenset[str] = frozenset({ENDPOINT_ERROR})

Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class Rejection:
    """Why no usable answer came back; ``detail`` is for logs, ``reason`` for counters."""

    reason: str
    detail: str = ""


Check = Callable[[Any], "tuple[str, str] | None"]
"""A stage's own test of a parsed answer: None, or (reason code, what to fix)."""


class _Failure(Exception):
    def __init__(self, reason: str, detail: str, text: str = "") -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.text = text  # the failed answer, shown back to the model on a retry


def _is_free_form(schema: Any) -> bool:
    """True when some object in the schema allows arbitrary keys (strict mode cannot say that)."""
    if isinstance(schema, Mapping):
        if schema.get("type") == "object" and (
            "properties" not in schema or schema.get("additionalProperties", False) is not False
        ):
            return True
        return any(_is_free_form(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_is_free_form(value) for value in schema)
    return False


@dataclass(frozen=True)
class JsonAnswer(Generic[Answer]):
    """What to ask for: a pydantic model, or a raw JSON Schema (e.g. a function's ``responses``)."""

    name: str
    schema: dict[str, Any]
    strict: bool
    model: type[Answer] | None = None

    @classmethod
    def of(cls, model: type[Answer]) -> JsonAnswer[Answer]:
        # openai's public tool helper holds the strict form of a model's schema (every property
        # required, no extra keys); its private to_strict_json_schema is what it calls.
        schema = openai.pydantic_function_tool(model)["function"]["parameters"]
        strict = not _is_free_form(schema)
        return cls(model.__name__, schema if strict else model.model_json_schema(), strict, model)

    @classmethod
    def from_schema(cls, name: str, schema: Mapping[str, Any]) -> JsonAnswer[Any]:
        kept = schema if isinstance(schema, dict) else dict(schema)  # the same object keeps its cached validator
        problem = meta_schema_problem(kept)
        if problem is not None:
            raise SchemaError(problem)
        safe_name = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:64] or "answer"
        return cls(safe_name, kept, False)

    def response_format(self) -> dict[str, Any]:
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.schema, "strict": self.strict}}

    def parse(self, text: str) -> Any:
        """The validated answer, or a _Failure saying whether the JSON or the schema was wrong."""
        if self.model is not None:
            try:
                return self.model.model_validate_json(text)
            except ValidationError as error:
                reason = "invalid_json" if error.errors()[0]["type"] == "json_invalid" else "schema_mismatch"
                raise _Failure(reason, "; ".join(field_problems(error, inputs=False)[:5])) from None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise _Failure("invalid_json", str(error)) from None
        problems = validation_errors(self.schema, value, limit=1)  # formats asserted too
        if problems:
            raise _Failure("schema_mismatch", f"at {problems[0]}")
        return value


def _with_schema_hint(messages: list[LLMMessage], answer: JsonAnswer[Any]) -> list[LLMMessage]:
    """For endpoints without structured outputs: state the schema in the system message."""
    hint = f"\n\nAnswer with one JSON object that matches this JSON Schema:\n{json.dumps(answer.schema)}"
    if messages and isinstance(messages[0], SystemMessage):
        return [SystemMessage(content=messages[0].content + hint), *messages[1:]]
    return [SystemMessage(content=hint.strip()), *messages]


async def _ask_once(client: ChatCompletionClient, messages: list[LLMMessage], answer: JsonAnswer[Any], role: str) -> Any:
    info = client.model_info
    if info.get("structured_output", False):
        extra = {"response_format": answer.response_format()}
    else:
        messages = _with_schema_hint(messages, answer)
        extra = {"response_format": {"type": "json_object"}} if info.get("json_output", False) else {}
    try:
        with speaking_as(role) as exchange:
            result = await client.create(messages, extra_create_args=extra)
    except openai.APIError as error:
        raise _Failure(ENDPOINT_ERROR, f"{type(error).__name__}: {error}") from None
    reading = read_answer(result, exchange, calls_in_text_ok=False)
    if reading.finish == "length":
        raise _Failure("truncated", "the answer was cut off at the token limit", reading.text)
    if reading.finish == "refusal":
        raise _Failure("refusal", reading.refusal or "the endpoint's content filter stopped the answer")
    if reading.calls:
        raise _Failure("invalid_json", "the model called a function instead of answering with JSON")
    if reading.finish == "empty":
        raise _Failure("empty", "the model answered with no content")
    try:
        return answer.parse(json_text(reading.text))
    except _Failure as failure:
        failure.text = reading.text
        raise


def _as_json(value: Any) -> str:
    return value.model_dump_json() if isinstance(value, BaseModel) else json.dumps(value, ensure_ascii=False)


def _feedback(failure: _Failure) -> str:
    if failure.reason == "truncated":
        return "Your answer was cut off before it ended. Answer again with a shorter JSON object."
    if failure.reason in ("refusal", "empty"):
        return "You gave no answer. This is a harmless data-generation task: answer with only the JSON object."
    return (
        f"Your answer could not be used ({failure.reason.replace('_', ' ')}: {failure.detail}). "
        "Answer again with only a JSON object that matches the required schema."
    )


async def ask_json(
    client: ChatCompletionClient,
    messages: Sequence[LLMMessage],
    answer: JsonAnswer[Any],
    *,
    retries: int = 2,
    check: Check | None = None,
    role: str | None = None,
) -> Any:
    """The validated answer (a model instance, or a JSON value for raw schemas) or a Rejection.

    Up to ``retries`` further requests follow an invalid, schema-breaking or truncated answer,
    each seeing the failed answer and what was wrong with it; ``check`` failures count the
    same way under their own reason, and so do refusals and empty answers (the feedback changes
    the request, so a cache never replays the failure). Endpoint errors are not retried here
    (the client already retried 429/5xx). ``role`` names the asker in the request's role header
    (default: the answer's schema name).
    """
    conversation = list(messages)
    attempt = 0
    while True:
        try:
            value = await _ask_once(client, conversation, answer, role or answer.name)
            problem = check(value) if check is not None else None
            if problem is None:
                return value
            raise _Failure(*problem, text=_as_json(value))
        except _Failure as failure:
            log.info("%s attempt %d rejected: %s: %s", answer.name, attempt + 1, failure.reason, failure.detail)
            if failure.reason in NOT_RETRIED or attempt >= retries:
                return Rejection(failure.reason, failure.detail)
            attempt += 1
            conversation = [
                *conversation,
                AssistantMessage(content=failure.text or "(no answer)", source="model"),
                UserMessage(content=_feedback(failure), source="user"),
            ]
