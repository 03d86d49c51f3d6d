"""Validators are cached by schema identity, and an edited schema is never served a stale one."""

from __future__ import annotations

from agents.offline.validation import schema_validator, validation_errors


def test_the_same_schema_object_reuses_its_validator() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert schema_validator(schema) is schema_validator(schema)
    assert schema_validator(schema) is schema_validator({**schema})  # equal text, one validator


def test_a_schema_edited_in_place_is_validated_as_it_now_is() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    assert validation_errors(schema, {"a": "x"}) and not validation_errors(schema, {"a": 1})
    schema["properties"]["a"]["type"] = "string"
    assert validation_errors(schema, {"a": 1}) and not validation_errors(schema, {"a": "x"})
