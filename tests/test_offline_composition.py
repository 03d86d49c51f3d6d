"""LibraryTaskSource end to end, and the structural checks it (and the LLM phase) relies on."""

import asyncio

import pytest

from composition.errors import ConfigurationError

from composition.filters import CHECKS, structural_problems
from composition.gold import run_gold_plan
from composition.ids import call_key
from composition.models import AtomicTask, CompositionalTask, FunctionSpec, OutputRef, Step
from composition.offline import LibraryTaskSource
from composition.stats import PipelineStats
from composition.world import load_world

MIXED = {"sequential": 1.0, "parallel_then_sequential": 1.0}


def _generate(num_tasks: int, seed: int = 0, strategies=MIXED, stats=None, **composition):
    source = LibraryTaskSource(
        strategies=strategies, composition={"max_chain_length": 3, **composition}, seed=seed, stats=stats
    )

    async def collect():
        return [task async for task in source.generate(num_tasks)]

    return asyncio.run(collect())


def test_yields_exactly_the_requested_kept_tasks_and_counts_them() -> None:
    stats = PipelineStats()
    tasks = _generate(200, stats=stats)
    kept = [task for task in tasks if task.kept]
    assert len(kept) == 200
    stage = stats.stage("compose")
    assert stage.kept == 200 and stage.made == len(tasks)
    assert sum(stage.rejected.values()) == len(tasks) - 200
    for task in tasks:
        assert task.kept == (task.reject_reason is None)
    assert {task.strategy for task in kept} == set(MIXED)


def test_kept_tasks_are_distinct_well_formed_and_round_trip() -> None:
    tasks = _generate(300, seed=4)
    kept = [task for task in tasks if task.kept]
    assert len({" ".join(t.text.lower().split()) for t in kept}) == len(kept)
    assert len({task.id for task in tasks}) == len(tasks)
    for task in kept:
        assert structural_problems(task) == []
        assert task.text == task.atomic_tasks[-1].text
        assert [spec.name for spec in task.functions] == list(
            dict.fromkeys(spec.name for atomic in task.atomic_tasks for spec in atomic.functions)
        )
        assert CompositionalTask.model_validate_json(task.model_dump_json()) == task
    assert any(task.reject_reason == "duplicate" for task in tasks)


def test_same_seed_same_ids_other_seed_other_ids() -> None:
    first = [task.id for task in _generate(50, seed=7)]
    assert first == [task.id for task in _generate(50, seed=7)]
    assert set(first).isdisjoint(task.id for task in _generate(50, seed=8))


def test_single_strategy_configs_give_only_their_shape() -> None:
    for task in _generate(40, strategies={"sequential": 1.0}):
        assert task.strategy == "sequential"
        assert task.edges == [(i, i + 1) for i in range(len(task.atomic_tasks) - 1)]
    for task in _generate(40, strategies={"parallel_then_sequential": 1.0, "sequential": 0}):
        assert task.strategy == "parallel_then_sequential"
        assert sorted(task.edges) == [(0, 2), (1, 2)]


def test_zero_tasks_yields_nothing_and_negative_is_refused() -> None:
    assert _generate(0) == []
    with pytest.raises(ValueError, match="num_tasks"):
        _generate(-1)


def test_unknown_strategy_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError) as error:
        LibraryTaskSource(strategies={"sequential": 1.0, "spiral": 1.0})
    assert "spiral" in str(error.value) and "parallel_then_sequential" in str(error.value)


@pytest.mark.parametrize(
    ("weights", "fragment"),
    [
        ({"sequential": -1.0}, "composition.strategies.sequential"),
        ({"sequential": "heavy"}, "composition.strategies.sequential"),
        ({"sequential": 0, "parallel_then_sequential": 0.0}, "at least one strategy"),
        ({}, "at least one strategy"),
    ],
)
def test_bad_weights_name_the_field(weights, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        LibraryTaskSource(strategies=weights)


def test_five_thousand_tasks_finish() -> None:
    tasks = _generate(5000, seed=1)
    assert sum(task.kept for task in tasks) == 5000


# Structural checks, each on a hand-built task that breaks exactly one rule.

SPEC = FunctionSpec(
    name="lookup_thing",
    description="Look something up.",
    parameters={"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    responses={"type": "object", "properties": {"answer": {"type": "string"}}},
)


def _atomic(text: str, bindings=None, function: str | None = "lookup_thing", functions=None) -> AtomicTask:
    step = Step(function=function, arguments={} if bindings else {"q": "x"}, bindings=bindings or {}, output_field="answer")
    return AtomicTask(id=text, text=text, functions=[SPEC] if functions is None else functions, step=step)


def _good() -> CompositionalTask:
    return CompositionalTask(
        id="t",
        text="What is the answer about the answer about x?",
        strategy="sequential",
        atomic_tasks=[_atomic("What is x?"), _atomic("What about that?", {"q": OutputRef(task=0, field="answer")})],
        edges=[(0, 1)],
        functions=[SPEC],
    )


def _broken(**changes) -> CompositionalTask:
    return _good().model_copy(update=changes)


def test_a_well_formed_task_has_no_problems() -> None:
    assert structural_problems(_good()) == []


def test_llm_tasks_without_steps_are_checked_too() -> None:
    task = _good()
    plain = [atomic.model_copy(update={"step": None}) for atomic in task.atomic_tasks]
    assert structural_problems(task.model_copy(update={"atomic_tasks": plain})) == []
    assert structural_problems(task.model_copy(update={"atomic_tasks": plain, "edges": []})) == ["disconnected_task"]


@pytest.mark.parametrize(
    ("task", "code"),
    [
        (_broken(edges=[(0, 1), (1, 1)]), "self_edge"),
        (_broken(edges=[(0, 1), (0, 1)]), "duplicate_edge"),
        (_broken(edges=[(0, 1), (1, 0)]), "cycle"),
        (
            _broken(
                atomic_tasks=[*_good().atomic_tasks, _atomic("What is y?")],
            ),
            "disconnected_task",
        ),
        (
            _broken(
                atomic_tasks=[
                    _atomic("What is x?"),
                    _atomic("What is z?"),
                    _atomic("Which of them?", {"q": OutputRef(task=1, field="answer")}),
                ],
                edges=[(0, 2), (0, 1)],
            ),
            "unbound_input",
        ),
        (
            _broken(
                atomic_tasks=[_atomic("What is x?"), _atomic("What is w?"), _atomic("And?", {"q": OutputRef(task=0)})],
                edges=[(0, 2), (1, 2)],
            ),
            "unused_edge",
        ),
        (_broken(functions=[]), "function_missing"),
        (
            _broken(atomic_tasks=[_atomic("What is x?"), _atomic("what is  X?", {"q": OutputRef(task=0)})]),
            "duplicate_atomic_task",
        ),
        (_broken(text="Use lookup_thing to find the answer about x."), "text_names_function"),
    ],
)
def test_each_reason_code_catches_its_problem(task: CompositionalTask, code: str) -> None:
    assert code in CHECKS
    assert code in structural_problems(task)


def test_reasoning_steps_need_no_function() -> None:
    reasoning = AtomicTask(
        id="r",
        text="Which is larger?",
        step=Step(operation="max_of", bindings={"a": OutputRef(task=0, field="answer")}),
    )
    task = _broken(atomic_tasks=[_atomic("What is x?"), reasoning])
    assert structural_problems(task) == []


# Quality of the composed text: what people fine-tune on must read like a person's request.

ARTICLES = {"the", "a", "an"}


@pytest.fixture(scope="module")
def sample() -> list[CompositionalTask]:
    return [task for task in _generate(500, seed=12) if task.kept]


def test_argument_values_never_start_with_an_article(sample) -> None:
    for task in sample:
        for atomic in task.atomic_tasks:
            for value in atomic.step.arguments.values():
                if isinstance(value, str):
                    assert value.split()[0].lower() not in ARTICLES, (task.text, value)


def test_text_has_no_doubled_words_braces_or_function_names(sample) -> None:
    import re

    for task in sample:
        text = task.text
        words = re.findall(r"[\w'-]+", text.lower())
        assert not any(a == b for a, b in zip(words, words[1:])), text
        assert not re.search(r"[{}_]", text), text
        assert not any(spec.name in text for spec in task.functions), text
        assert text[0].isupper() and text.endswith("?") and "  " not in text, text
        assert not re.search(r"\b(the|a|an) (the|a|an)\b", text, re.IGNORECASE), text


def test_reasoning_operands_share_one_output_type(sample) -> None:
    combined = 0
    for task in sample:
        for atomic in task.atomic_tasks:
            if atomic.step.operation and len(atomic.step.bindings) > 1:
                types = {task.atomic_tasks[ref.task].output_type for ref in atomic.step.bindings.values()}
                assert len(types) == 1, task.text
                combined += 1
    assert combined > 50


def test_a_chain_that_comes_back_to_a_call_it_made_is_rejected_as_a_repeated_call() -> None:
    """'When was the latest film by the director of Petite Maman released?' asks for Petite Maman's
    release date twice: the answer is known half-way, so the task is not kept."""
    tasks = _generate(300, seed=9, strategies={"k_hop": 1.0}, hops=3)
    assert any(task.reject_reason == "repeated_call" for task in tasks)
    world = load_world()
    for task in (task for task in tasks if task.kept):
        run = run_gold_plan(task, world.result)
        calls = [
            call_key(task.atomic_tasks[index].step.function, inputs)
            for index, inputs in run.inputs.items()
            if task.atomic_tasks[index].step.function is not None
        ]
        assert len(calls) == len(set(calls)), task.text
