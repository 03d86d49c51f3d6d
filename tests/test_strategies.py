"""Composition strategies: the registry, the shapes they draw, and their type-matched realizations."""

import random

import pytest

from composition.errors import ConfigurationError
from composition.library import load_library
from composition.strategies import TaskShape, available_strategies, get_strategy
from composition.strategies.matching import fill_shape


@pytest.fixture(scope="module")
def library():
    return load_library()


def _compositions(name: str, count: int, seed: int = 3, **options):
    strategy = get_strategy(name)(options)
    rng = random.Random(seed)
    return [strategy.compose(load_library(), rng, seed) for _ in range(count)]


def _edges(placed) -> set[tuple[int, int]]:
    return {(ref.task, p.index) for p in placed for ref in p.task.step.bindings.values()}


def test_the_built_in_strategies_have_short_names_and_descriptions() -> None:
    assert available_strategies() == ["sequential", "parallel_then_sequential", "k_hop", "parallel"]
    assert get_strategy("sequential").name == "sequential"
    assert all(get_strategy(name).description for name in available_strategies())


def test_unknown_strategy_names_the_value_and_the_allowed_ones() -> None:
    with pytest.raises(ConfigurationError) as error:
        get_strategy("zigzag")
    message = str(error.value)
    assert "zigzag" in message
    assert "sequential" in message and "parallel_then_sequential" in message
    assert isinstance(error.value, ValueError)


def test_a_strategy_outside_the_package_is_found_by_its_dotted_path(library) -> None:
    strategy = get_strategy("examples.extensions.TwoChains")
    assert strategy.name == "two_chains"
    placed = strategy().compose(library, random.Random(0), 0)
    assert _edges(placed) == {(0, 1), (2, 3)}
    with pytest.raises(ConfigurationError, match="not a subclass of CompositionStrategy"):
        get_strategy("json.JSONDecoder")
    with pytest.raises(ConfigurationError, match="cannot import composition strategy .nowhere.Shape."):
        get_strategy("nowhere.Shape")


def test_shapes_only_point_forward() -> None:
    with pytest.raises(ValueError, match="forward"):
        TaskShape(size=2, edges=((1, 0),))
    with pytest.raises(ValueError, match="forward"):
        TaskShape(size=2, edges=((0, 2),))


def test_sequential_builds_chains_within_the_length_limit() -> None:
    sizes = set()
    for placed in _compositions("sequential", 60, max_chain_length=4):
        sizes.add(len(placed))
        assert _edges(placed) == {(i, i + 1) for i in range(len(placed) - 1)}
    assert sizes == {2, 3, 4}
    assert all(len(placed) == 2 for placed in _compositions("sequential", 20, max_chain_length=2))


@pytest.mark.parametrize("bad", [1, "3", 2.5, True])
def test_sequential_rejects_a_bad_chain_length(bad) -> None:
    with pytest.raises(ConfigurationError, match="max_chain_length"):
        get_strategy("sequential")({"max_chain_length": bad})


def test_parallel_then_sequential_feeds_two_independent_tasks_into_a_third() -> None:
    for placed in _compositions("parallel_then_sequential", 60):
        assert len(placed) == 3
        assert _edges(placed) == {(0, 2), (1, 2)}
        assert placed[0].task.step.bindings == {} and placed[1].task.step.bindings == {}
        assert placed[0].task.text != placed[1].task.text


@pytest.mark.parametrize("name", ["sequential", "parallel_then_sequential"])
def test_composed_text_reads_through_producer_references(name: str) -> None:
    for placed in _compositions(name, 40):
        final = placed[-1].task
        for producer in placed[:-1]:
            assert producer.reference in final.text
        names = {spec.name for p in placed for spec in p.task.functions}
        assert not any(function in final.text for function in names)
        assert "{" not in final.text and final.text[0].isupper() and final.text.endswith("?")


@pytest.mark.parametrize("name", ["sequential", "parallel_then_sequential"])
def test_bound_values_have_the_type_the_consumer_expects(name: str, library) -> None:
    for placed in _compositions(name, 40):
        for consumer in placed:
            for slot, ref in consumer.task.step.bindings.items():
                producer = placed[ref.task].entry
                assert producer.output_type == consumer.entry.slots[slot].type
                assert ref.field == producer.output_field
                schema = consumer.entry.parameter_schema(slot)
                if schema is not None and producer.output_schema() is not None:
                    assert schema["type"] == producer.output_schema()["type"]


def test_reasoning_entries_only_appear_with_every_slot_bound() -> None:
    seen_reasoning = False
    for name in ("sequential", "parallel_then_sequential"):
        for placed in _compositions(name, 80):
            for p in placed:
                if p.entry.is_reasoning:
                    seen_reasoning = True
                    assert set(p.task.step.bindings) == set(p.entry.slots)
                    assert p.task.step.arguments == {}
    assert seen_reasoning


def test_avoided_producers_never_feed_their_consumer() -> None:
    for placed in _compositions("sequential", 200, seed=11):
        for consumer in placed:
            for ref in consumer.task.step.bindings.values():
                assert placed[ref.task].entry.id not in consumer.entry.avoid_after


def test_same_rng_state_gives_the_same_composition() -> None:
    first = [[p.task.id for p in placed] for placed in _compositions("sequential", 10, seed=5)]
    second = [[p.task.id for p in placed] for placed in _compositions("sequential", 10, seed=5)]
    assert first == second


@pytest.mark.parametrize("name", ["sequential", "parallel_then_sequential"])
def test_bound_answers_are_of_the_kind_the_slot_accepts(name: str, library) -> None:
    for placed in _compositions(name, 150, seed=9):
        for consumer in placed:
            for slot, ref in consumer.task.step.bindings.items():
                accepted = consumer.entry.slots[slot].accepts
                assert library.accepts(accepted, placed[ref.task].entry.produces), (consumer.entry.id, slot)


def test_reasoning_steps_compare_like_with_like() -> None:
    compared = 0
    for placed in _compositions("parallel_then_sequential", 200, seed=2):
        sink = placed[-1]
        if sink.entry.is_reasoning:
            kinds = {placed[ref.task].entry.produces for ref in sink.task.step.bindings.values()}
            assert len(kinds) == 1, sink.task.text
            compared += 1
    assert compared > 50


def test_symmetric_operands_come_in_one_order() -> None:
    """'A or B' and 'B or A' must not both exist, so operands follow their references' order."""
    checked = 0
    for placed in _compositions("parallel_then_sequential", 200, seed=6):
        sink = placed[-1]
        if sink.entry.operation in {"max_of", "min_of", "sum"}:
            references = [placed[ref.task].reference for _, ref in sorted(sink.task.step.bindings.items())]
            assert references == sorted(references)
            checked += 1
    assert checked > 20


@pytest.mark.parametrize(("name", "least"), [("sequential", 380), ("parallel_then_sequential", 300)])
def test_compositions_vary(name: str, least: int) -> None:
    texts = [placed[-1].task.text for placed in _compositions(name, 500, seed=1)]
    assert len(set(texts)) >= least


def test_k_hop_builds_chains_of_exactly_the_configured_length() -> None:
    for placed in _compositions("k_hop", 20, hops=4):
        assert _edges(placed) == {(0, 1), (1, 2), (2, 3)}
    with pytest.raises(ConfigurationError, match="composition.hops"):
        get_strategy("k_hop")({"hops": 1})


def test_parallel_builds_independent_tasks_and_skips_the_disconnected_filter() -> None:
    for placed in _compositions("parallel", 20, width=3):
        assert len(placed) == 3
        assert _edges(placed) == set()
    assert "disconnected_task" not in get_strategy("parallel").filters
    assert "disconnected_task" in get_strategy("sequential").filters
    with pytest.raises(ConfigurationError, match="composition.width"):
        get_strategy("parallel")({"width": 1})


def test_a_shape_type_matching_cannot_fill_is_a_value_error_not_a_silent_miss(library) -> None:
    with pytest.raises(ValueError, match="at most one consumer"):
        fill_shape(library, TaskShape(size=3, edges=((0, 1), (0, 2))), random.Random(0))
