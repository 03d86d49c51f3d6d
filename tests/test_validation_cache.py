"""Validators are cached by schema identity, an edited schema is never served a stale one, and
formats and the meta-schema are enforced (composition/schemas.py)."""

from __future__ import annotations

from composition.schemas import meta_schema_problem, schema_validator, validation_errors


def test_the_same_schema_object_reuses_its_validator() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert schema_validator(schema) is schema_validator(schema)
    assert schema_validator(schema) is schema_validator({**schema})  # equal text, one validator


def test_a_schema_edited_in_place_is_validated_as_it_now_is() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert validation_errors(schema, {"a": "x"}) and not validation_errors(schema, {"a": 1})
    schema["properties"]["a"]["type"] = "string"
    assert validation_errors(schema, {"a": 1}) and not validation_errors(schema, {"a": "x"})


def test_formats_are_asserted_not_just_annotated() -> None:
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    assert validation_errors(schema, {"day": "14 June"}) == ["day: '14 June' is not a 'date'"]
    assert not validation_errors(schema, {"day": "2025-06-14"})


def test_meta_schema_problems_are_named_and_checked_in_the_schema_dialect() -> None:
    assert meta_schema_problem({"type": "object"}) is None
    assert "'nope' is not valid" in (meta_schema_problem({"type": "nope"}) or "")
    draft7 = {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "required": "a"}
    assert "'a' is not of type 'array'" in (meta_schema_problem(draft7) or "")
