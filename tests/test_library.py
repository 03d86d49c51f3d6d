"""The typed atomic-task library: size, validity, type edges that line up, and loud bad data."""

import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from composition.library import LibraryError, load_library, realize
from composition.library.loader import default_data_dir
from composition.models import FunctionSpec


@pytest.fixture(scope="module")
def library():
    return load_library()


def _bare(schema: dict) -> dict:
    return {key: value for key, value in schema.items() if key != "description"}


def test_library_is_large_and_varied(library) -> None:
    assert len(library.entries) >= 80
    assert len(library.domains) >= 12
    assert sum(entry.is_reasoning for entry in library.entries) >= 8
    assert len({entry.id for entry in library.entries}) == len(library.entries)


def test_every_entry_states_its_function_and_output(library) -> None:
    for entry in library.entries:
        if entry.is_reasoning:
            assert entry.function is None and entry.output_field is None
            continue
        FunctionSpec.model_validate(entry.function.model_dump())
        assert entry.output_field in entry.function.responses["properties"]
        assert set(entry.slots) <= set(entry.function.parameters["properties"])
        assert set(entry.function.required) <= set(entry.slots)
        for spec in entry.slots.values():
            assert 2 <= len(spec.examples) <= 4


def test_json_types_line_up_along_every_type_edge(library) -> None:
    edges = 0
    for producer in library.entries:
        for consumer, slot in library.consumers_of(producer.output_type):
            expected = library.types[producer.output_type]
            if producer.output_schema() is not None:
                assert _bare(producer.output_schema()) == expected, producer.id
            if consumer.parameter_schema(slot) is not None:
                assert _bare(consumer.parameter_schema(slot)) == expected, (consumer.id, slot)
            edges += 1
    assert edges > 200


def test_examples_validate_against_their_parameter_schema(library) -> None:
    for entry in library.entries:
        for slot, spec in entry.slots.items():
            schema = entry.parameter_schema(slot) or library.types[spec.type]
            validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
            for value in spec.examples:
                assert validator.is_valid(value), (entry.id, slot, value)


def test_type_graph_allows_chains_of_three(library) -> None:
    chains = [
        (first.id, second.id, third.id)
        for first in library.entries
        if not first.is_reasoning
        for second, _ in library.consumers_of(first.output_type)
        if not second.is_reasoning
        for third, _ in library.consumers_of(second.output_type)
    ]
    assert len(chains) > 100
    assert ("books.author_of", "people.birthplace", "weather.current_temperature") in chains


def test_indexes_agree_with_entries(library) -> None:
    person_producers = {entry.id for entry in library.producers_of("person")}
    assert "books.author_of" in person_producers
    assert all(entry.output_type == "person" for entry in library.producers_of("person"))
    assert ("people.birth_date", "name") in {(e.id, slot) for e, slot in library.consumers_of("person")}
    assert library.producers_of("no_such_type") == []


def test_consumer_text_uses_the_producer_reference(library) -> None:
    author = realize(library.get("books.author_of"), 0, {"title": "Dune"}, {}, seed=0)
    born = realize(library.get("people.birth_date"), 1, {}, {"name": author}, seed=0)
    assert author.task.text == "Who wrote the book Dune?"
    assert author.reference == "the author of the book Dune"
    assert born.task.text == "When was the author of the book Dune born?"
    assert born.task.step.function == "get_person_profile"
    assert born.task.step.bindings["name"].task == 0
    assert born.task.step.bindings["name"].field == "author"
    assert born.task.functions[0].name == "get_person_profile"
    assert born.task.output_type == "date"


def test_reasoning_entry_becomes_an_operation_step(library) -> None:
    count = realize(library.get("books.count_entries"), 1, {"items": ["a", "b"]}, {}, seed=0)
    assert count.task.functions == []
    assert count.task.step.operation == "count"
    assert count.task.step.arguments == {"items": ["a", "b"]}


def test_realize_refuses_unfilled_slots(library) -> None:
    with pytest.raises(ValueError, match="title"):
        realize(library.get("books.author_of"), 0, {}, {}, seed=0)


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(default_data_dir(), folder)
    return folder


def _edit_books(folder: Path, change) -> Path:
    path = folder / "books.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d["tasks"][0].update(template="Who wrote {name}?"), "template placeholders"),
        (lambda d: d["tasks"][0].update(output_field="editor"), "output_field 'editor'"),
        (lambda d: d["tasks"][0].update(function="find_books"), "function: 'find_books' is not defined"),
        (lambda d: d["tasks"][0]["slots"]["title"].update(type="tome"), "slots.title.type: unknown type 'tome'"),
        (lambda d: d["tasks"][0]["slots"]["title"].update(examples=["Dune"]), "slots.title.examples"),
        (lambda d: d["tasks"][0].update(output_type="year"), "function.responses.author: must use the 'year'"),
        (lambda d: d["tasks"][0].update(avoid_after=["books.nope"]), "avoid_after"),
        (lambda d: d["tasks"][6].update(operation="median"), "operation 'median' unknown"),
    ],
)
def test_bad_entry_names_file_entry_and_field(data_copy: Path, change, fragment: str) -> None:
    path = _edit_books(data_copy, change)
    with pytest.raises(LibraryError) as error:
        load_library(data_copy)
    message = str(error.value)
    assert fragment in message
    if "avoid_after" not in fragment:
        assert str(path) in message
    assert "books." in message


def test_bad_function_and_bad_json_are_named(data_copy: Path) -> None:
    path = _edit_books(data_copy, lambda d: d["functions"]["search_books"]["parameters"].update(type="array"))
    with pytest.raises(LibraryError, match=r"books\.json: function 'search_books': parameters"):
        load_library(data_copy)
    path.write_text('{"domain": "books",\n "tasks": [,]}')
    with pytest.raises(LibraryError, match=r"books\.json: line 2: invalid JSON"):
        load_library(data_copy)


# Kinds: what keeps compositions sensible (like compared with like, bare argument values).


def test_kinds_narrow_types_and_keep_unlike_prices_apart(library) -> None:
    assert library.lineage("hotel_rate")[-1] == "price"
    assert library.accepts("purchase_price", "hotel_rate")
    assert library.accepts("price", "electricity_rate")
    assert not library.accepts("purchase_price", "electricity_rate")
    assert not library.accepts("author", "coach")
    cheaper = library.get("shopping.cheaper")
    feeders = {entry.id for entry in library.feeders_of_slot(cheaper, "a")}
    assert {"shopping.product_price", "travel.hotel_rate"} <= feeders
    assert "home.electricity_price" not in feeders
    birth = {entry.id for entry in library.feeders_of_slot(library.get("people.birth_date"), "name")}
    assert "books.author_of" in birth and "health.top_doctor" not in birth
    for entry in library.entries:
        for spec in entry.slots.values():
            assert library.lineage(spec.accepts)[-1] == spec.type, (entry.id, spec)
        assert library.lineage(entry.produces)[-1] == entry.output_type, entry.id


def test_trivial_round_trips_are_ruled_out(library) -> None:
    """No task asks for a value its producer was given: the city of a cinema found in that city,
    or the airport of the city an airport serves."""
    venue_city = {entry.id for entry in library.feeders_of_slot(library.get("sports.venue_city"), "venue")}
    assert "entertainment.cinema_tonight" not in venue_city
    assert "sports.team_stadium" in venue_city
    airport_city = {entry.id for entry in library.feeders_of_slot(library.get("travel.airport_city"), "airport_code")}
    assert "travel.main_airport" not in airport_city and "travel.flight_arrival" in airport_city


def test_reasoning_entries_combine_one_kind(library) -> None:
    for entry in library.entries:
        if entry.is_reasoning:
            assert len({spec.accepts for spec in entry.slots.values()}) == 1, entry.id


def test_no_example_value_starts_with_an_article(library) -> None:
    for entry in library.entries:
        for spec in entry.slots.values():
            for value in spec.examples:
                if isinstance(value, str):
                    assert value.split()[0].lower() not in {"the", "a", "an"}, (entry.id, value)


def test_literal_text_and_argument_differ_only_by_format(library) -> None:
    price = realize(library.get("shopping.product_price"), 0, {"product": "Kindle Paperwhite"}, {}, seed=0)
    assert price.task.text == "What is the lowest price for the Kindle Paperwhite right now?"
    assert price.task.step.arguments == {"product": "Kindle Paperwhite"}


def _edit_types(folder: Path, change) -> None:
    path = folder / "types.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d["tasks"][0]["slots"]["title"].update(examples=["the Dune", "Emma"]), "starts with an article"),
        (lambda d: d["tasks"][0].update(output_kind="warp_drive"), "output_kind: unknown kind 'warp_drive'"),
        (lambda d: d["tasks"][0].update(output_kind="hotel_rate"), "kind 'hotel_rate' belongs to type 'price'"),
        (lambda d: d["tasks"][0].pop("output_kind"), "output_kind: type 'person' is split into kinds"),
        (lambda d: d["tasks"][6]["slots"]["a"].update(kind="publication_year"), "combines one kind"),
    ],
)
def test_bad_kinds_and_articles_are_named(data_copy: Path, change, fragment: str) -> None:
    path = _edit_books(data_copy, change)
    with pytest.raises(LibraryError) as error:
        load_library(data_copy)
    assert fragment in str(error.value)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d["kinds"].update(author="nobody"), "kinds.author: parent 'nobody'"),
        (lambda d: d["kinds"].update(graduate="author"), "cycle"),
        (lambda d: d["kinds"].update(city="place"), "kinds.city: 'city' is a type"),
    ],
)
def test_bad_kind_tree_is_named(data_copy: Path, change, fragment: str) -> None:
    _edit_types(data_copy, change)
    with pytest.raises(LibraryError, match=fragment):
        load_library(data_copy)
