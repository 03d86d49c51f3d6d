"""Load and cross-check the typed atomic-task library shipped as package data.

Layout of ``data/``: ``types.json`` maps each semantic type to the one JSON Schema every
function property of that type must use, and names narrower *kinds* of each type; each other
``<domain>.json`` holds that domain's functions (by name) and its task entries. Because typed
properties share one schema, a producer's output always validates against any consumer
parameter of the same type, which is what makes type matching safe.

Types keep data valid; kinds keep compositions sensible. A hotel's nightly rate and the price
of a kilowatt-hour are both a ``price``, but no one compares them, so each is its own kind
(``hotel_rate``, ``electricity_rate``) under ``price``, and a slot names the kind it accepts:
a kind accepts itself and every kind below it. A type whose kinds are split must be split
everywhere: each slot of that type names its kind, so nothing accepts "any price" by accident.
A bad file fails loudly with file, entry id and field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from composition.errors import ConfigurationError, field_problems
from composition.library.models import LibraryEntry
from composition.models import FunctionSpec
from composition.schemas import meta_schema_problem, schema_validator
from composition.world.world import COLLECTIONS

TYPES_FILE = "types.json"


class LibraryError(ConfigurationError):
    """A library data file is unreadable or inconsistent; the message names file, entry, field."""


class TaskLibrary:
    """All entries plus indexes by the semantic type they produce and consume."""

    def __init__(
        self,
        entries: Iterable[LibraryEntry],
        types: dict[str, dict[str, Any]],
        kinds: dict[str, str] | None = None,
    ) -> None:
        self.entries: tuple[LibraryEntry, ...] = tuple(entries)
        self.types = types
        self.kinds: dict[str, str] = dict(kinds or {})  # kind -> the kind or type right above it
        self._by_id = {entry.id: entry for entry in self.entries}
        self._producers: dict[str, list[LibraryEntry]] = {}
        self._consumers: dict[str, list[tuple[LibraryEntry, str]]] = {}
        self._feeders: dict[str, list[LibraryEntry]] = {}
        for entry in self.entries:
            self._producers.setdefault(entry.output_type, []).append(entry)
            for kind in self.lineage(entry.produces):
                self._feeders.setdefault(kind, []).append(entry)
            for slot, spec in entry.slots.items():
                self._consumers.setdefault(spec.type, []).append((entry, slot))

    @property
    def domains(self) -> list[str]:
        return sorted({entry.domain for entry in self.entries})

    def get(self, entry_id: str) -> LibraryEntry:
        try:
            return self._by_id[entry_id]
        except KeyError:
            raise KeyError(f"no library entry {entry_id!r}") from None

    def producers_of(self, semantic_type: str) -> list[LibraryEntry]:
        """Entries whose answer has this type."""
        return list(self._producers.get(semantic_type, []))

    def consumers_of(self, semantic_type: str) -> list[tuple[LibraryEntry, str]]:
        """(entry, slot) pairs whose slot takes this type."""
        return list(self._consumers.get(semantic_type, []))

    def lineage(self, kind: str) -> list[str]:
        """``kind`` and every kind above it, up to its type (the broadest kind)."""
        chain = [kind]
        while chain[-1] in self.kinds:
            chain.append(self.kinds[chain[-1]])
        return chain

    def accepts(self, slot_kind: str, answer_kind: str) -> bool:
        """Whether an answer of ``answer_kind`` may fill a slot that accepts ``slot_kind``."""
        return slot_kind in self.lineage(answer_kind)

    def feeders_of(self, slot_kind: str) -> list[LibraryEntry]:
        """Entries whose answer a slot accepting ``slot_kind`` may take (that kind or a narrower one)."""
        return list(self._feeders.get(slot_kind, []))

    def feeders_of_slot(self, entry: LibraryEntry, slot: str) -> list[LibraryEntry]:
        """Entries that may fill ``slot`` of ``entry``, minus those its ``avoid_after`` rules out."""
        return [
            producer
            for producer in self.feeders_of(entry.slots[slot].accepts)
            if producer.id not in entry.avoid_after
        ]


def default_data_dir() -> Path:
    return Path(str(resources.files("composition.library") / "data"))


@lru_cache(maxsize=4)
def load_library(data_dir: str | Path | None = None) -> TaskLibrary:
    """The library in ``data_dir`` (the packaged one by default), validated; cached per folder."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    types, kinds = _load_types(folder / TYPES_FILE)
    units = _load_units(folder / TYPES_FILE, types, kinds)
    entries: list[LibraryEntry] = []
    functions: dict[str, tuple[Path, FunctionSpec]] = {}
    for path in sorted(folder.glob("*.json")):
        if path.name != TYPES_FILE:
            entries.extend(_load_domain(path, types, kinds, functions))
    _check_references(entries)
    if not entries:
        raise LibraryError(f"{folder}: no library entries found")
    entries = [entry if entry.unit else entry.model_copy(update={"unit": _unit(entry.produces, kinds, units)}) for entry in entries]
    return TaskLibrary(entries, types, kinds)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LibraryError(f"{path}: cannot read: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise LibraryError(f"{path}: line {error.lineno}: invalid JSON: {error.msg}") from None


def _load_types(path: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    data = _read_json(path)
    types = data.get("types")
    if not isinstance(types, dict) or not types:
        raise LibraryError(f"{path}: field 'types' must be a non-empty object")
    for name, schema in types.items():
        problem = meta_schema_problem(schema)
        if problem is not None:
            raise LibraryError(f"{path}: types.{name}: not a valid JSON Schema: {problem}")
    return types, _load_kinds(path, data.get("kinds", {}), types)


def _load_units(path: Path, types: dict[str, dict[str, Any]], kinds: dict[str, str]) -> dict[str, str]:
    """``units`` maps a type or kind to the unit its answers are stated in (e.g. 'USD')."""
    raw = _read_json(path).get("units", {})
    if not isinstance(raw, dict):
        raise LibraryError(f"{path}: field 'units' must be an object of type or kind -> unit")
    for name, unit in raw.items():
        if name not in types and name not in kinds:
            raise LibraryError(f"{path}: units.{name}: neither a type nor a kind")
        if not isinstance(unit, str) or not unit:
            raise LibraryError(f"{path}: units.{name}: must be a non-empty string")
    return dict(raw)


def _unit(kind: str, kinds: dict[str, str], units: dict[str, str]) -> str | None:
    """The unit of the nearest kind (or the type) in ``kind``'s lineage that names one."""
    while kind not in units and kind in kinds:
        kind = kinds[kind]
    return units.get(kind)


def _load_kinds(path: Path, raw: Any, types: dict[str, dict[str, Any]]) -> dict[str, str]:
    """``kinds`` maps each kind to the kind or type right above it; every chain ends in a type."""
    if not isinstance(raw, dict):
        raise LibraryError(f"{path}: field 'kinds' must be an object of kind -> parent kind or type")
    for kind, parent in raw.items():
        where = f"{path}: kinds.{kind}"
        if kind in types:
            raise LibraryError(f"{where}: {kind!r} is a type; a kind needs its own name")
        if not isinstance(parent, str) or (parent not in types and parent not in raw):
            raise LibraryError(f"{where}: parent {parent!r} is neither a type nor a kind")
        seen = {kind}
        while parent in raw:
            if parent in seen:
                raise LibraryError(f"{where}: kinds form a cycle through {parent!r}")
            seen.add(parent)
            parent = raw[parent]
    return dict(raw)


def _type_of(kind: str, kinds: dict[str, str]) -> str:
    while kind in kinds:
        kind = kinds[kind]
    return kind


def _load_domain(
    path: Path,
    types: dict[str, dict[str, Any]],
    kinds: dict[str, str],
    functions: dict[str, tuple[Path, FunctionSpec]],
) -> list[LibraryEntry]:
    data = _read_json(path)
    domain = data.get("domain")
    if not isinstance(domain, str) or not domain:
        raise LibraryError(f"{path}: field 'domain' must be a non-empty string")
    specs = {name: _function(path, name, raw, functions) for name, raw in data.get("functions", {}).items()}
    entries = []
    for position, raw in enumerate(data.get("tasks", [])):
        entry_id = raw.get("id", f"#{position}") if isinstance(raw, dict) else f"#{position}"
        where = f"{path}: entry {entry_id!r}"
        entry = _entry(where, raw, domain, data.get("scenario"), specs)
        _check_types(where, entry, types)
        _check_kinds(where, entry, kinds)
        entries.append(entry)
    return entries


def _function(
    path: Path, name: str, raw: dict[str, Any], seen: dict[str, tuple[Path, FunctionSpec]]
) -> FunctionSpec:
    try:
        spec = FunctionSpec(name=name, **raw)
    except (ValidationError, TypeError) as error:
        raise LibraryError(f"{path}: function {name!r}: {_first_error(error)}") from None
    if name in seen and seen[name][1] != spec:
        raise LibraryError(f"{path}: function {name!r}: differs from its definition in {seen[name][0]}")
    seen[name] = (path, spec)
    return spec


def _entry(
    where: str, raw: Any, domain: str, scenario: str | None, specs: dict[str, FunctionSpec]
) -> LibraryEntry:
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: must be an object")
    fields = {"domain": domain, "scenario": scenario, **raw}
    function_name = fields.get("function")
    if function_name is not None:
        if function_name not in specs:
            raise LibraryError(f"{where}: function: {function_name!r} is not defined; defined: {sorted(specs)}")
        fields["function"] = specs[function_name]
    try:
        return LibraryEntry.model_validate(fields)
    except ValidationError as error:
        raise LibraryError(f"{where}: {_first_error(error)}") from None


def _first_error(error: ValidationError | TypeError) -> str:
    if isinstance(error, TypeError):
        return str(error)
    return field_problems(error, inputs=False, root="entry")[0]


def _without_description(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "description"}


def _check_types(where: str, entry: LibraryEntry, types: dict[str, dict[str, Any]]) -> None:
    """Every typed slot and output uses its type's schema; every example fits it."""
    for slot, spec in entry.slots.items():
        if spec.world is not None and spec.world not in COLLECTIONS:
            raise LibraryError(f"{where}: slots.{slot}.world: unknown collection {spec.world!r}; known: {', '.join(sorted(COLLECTIONS))}")
        schema = _known(where, f"slots.{slot}.type", spec.type, types)
        validator = schema_validator(schema)
        for value in spec.examples:
            if not validator.is_valid(value):
                raise LibraryError(f"{where}: slots.{slot}.examples: {value!r} is not a valid {spec.type}")
        parameter = entry.parameter_schema(slot)
        if parameter is not None and _without_description(parameter) != schema:
            raise LibraryError(
                f"{where}: function.parameters.{slot}: must use the {spec.type!r} schema {schema}"
            )
    output_schema = _known(where, "output_type", entry.output_type, types)
    produced = entry.output_schema()
    if produced is not None and _without_description(produced) != output_schema:
        raise LibraryError(
            f"{where}: function.responses.{entry.output_field}: must use the "
            f"{entry.output_type!r} schema {output_schema}"
        )


def _check_kinds(where: str, entry: LibraryEntry, kinds: dict[str, str]) -> None:
    """Kinds exist and narrow their own type; a type split into kinds is named by kind everywhere."""
    split = set(kinds.values())
    named = [(f"slots.{slot}.kind", spec.kind, spec.type) for slot, spec in entry.slots.items()]
    named.append(("output_kind", entry.output_kind, entry.output_type))
    for field, kind, semantic_type in named:
        if kind is None:
            if semantic_type in split:
                choices = sorted(k for k in kinds if _type_of(k, kinds) == semantic_type)
                raise LibraryError(
                    f"{where}: {field}: type {semantic_type!r} is split into kinds; name one of "
                    f"{semantic_type}, {', '.join(choices)}"
                )
            continue
        if kind != semantic_type and kind not in kinds:
            raise LibraryError(f"{where}: {field}: unknown kind {kind!r}")
        if _type_of(kind, kinds) != semantic_type:
            raise LibraryError(
                f"{where}: {field}: kind {kind!r} belongs to type {_type_of(kind, kinds)!r}, not {semantic_type!r}"
            )


def _known(where: str, field: str, semantic_type: str, types: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if semantic_type not in types:
        raise LibraryError(f"{where}: {field}: unknown type {semantic_type!r}; known: {', '.join(sorted(types))}")
    return types[semantic_type]


def _check_references(entries: list[LibraryEntry]) -> None:
    """Entry ids are unique, and ``avoid_after`` names existing entries."""
    seen: set[str] = set()
    for entry in entries:
        if entry.id in seen:
            raise LibraryError(f"entry id {entry.id!r} appears twice in the library")
        seen.add(entry.id)
    for entry in entries:
        unknown = sorted(set(entry.avoid_after) - seen)
        if unknown:
            raise LibraryError(f"entry {entry.id!r}: avoid_after: unknown entries {unknown}")
