"""A "which is larger" answer must name the chosen side, not only quote both values.

Quoting both values states the chosen value whichever side the sentence calls larger, so the
answer checks also read which side comes before the choice's adjective (environment/answers.py
``wrong_side``). Every phrasing the oracle uses must pass when right and fail when its sides
are swapped; over a real offline run no answer is rejected and every swapped one is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.offline.phrasing import phrasebook
from button.api import run_pipeline
from composition.gold import GoldRun, run_gold_plan
from composition.jsonl import read_records
from composition.models import CompositionalTask
from composition.world import load_world
from environment.answers import unstated, wrong_side
from task_factory import comparison_task

TEMPERATURES = {"Oslo": 4.5, "Lisbon": 19}


def warmer_run() -> GoldRun:
    """Oslo 4.5 °C against Lisbon 19 °C: the warmer is Lisbon (the last step, index 2)."""
    return run_gold_plan(comparison_task(), lambda name, args: {"temperature": TEMPERATURES[args["city"]], "condition": "sun"})


def fill(template: str, win: str, lose: str) -> str:
    names = {"win": f"the temperature in {win}", "lose": f"the temperature in {lose}",
             "vw": f"{TEMPERATURES[win]} °C", "vl": f"{TEMPERATURES[lose]} °C", "adj": "warmer"}
    return template.format(**names, **{key.capitalize(): value.capitalize() for key, value in names.items()})


@pytest.mark.parametrize("template", phrasebook("oracle")["compare"])
def test_every_oracle_phrasing_passes_when_right_and_fails_when_swapped(template: str) -> None:
    run = warmer_run()
    assert unstated(fill(template, "Lisbon", "Oslo"), run) is None
    swapped = fill(template, "Oslo", "Lisbon")  # both values quoted, the wrong side named
    assert wrong_side(swapped, run, 2) == (
        "the final answer calls the temperature in Oslo the warmer one, but it is the temperature in Lisbon"
    )
    assert unstated(swapped, run) == wrong_side(swapped, run, 2)


@pytest.mark.parametrize(
    "answer",
    [
        "Oslo is not warmer than Lisbon: 4.5 °C against 19 °C.",  # a negation
        "It's 19 °C in Lisbon and 4.5 °C in Oslo.",  # no adjective: nothing to read
        "The warmer of Oslo (4.5 °C) and Lisbon (19 °C) is Lisbon.",  # no side before the adjective
    ],
)
def test_answers_the_side_cannot_be_read_from_are_not_rejected(answer: str) -> None:
    assert unstated(answer, warmer_run()) is None


def test_a_tie_names_no_side() -> None:
    level = run_gold_plan(comparison_task(), lambda name, args: {"temperature": 12, "condition": "sun"})
    assert wrong_side("Oslo is warmer, both are 12 °C.", level, 2) is None


def test_over_an_offline_run_no_answer_is_rejected_and_every_swapped_choice_is(tmp_path: Path) -> None:
    run_pipeline(tmp_path / "run", ["num_tasks=200"])
    tasks = {
        record["id"]: CompositionalTask.model_validate({k: v for k, v in record.items() if k in CompositionalTask.model_fields})
        for record in read_records(tmp_path / "run" / "tasks.jsonl")
        if record["kept"]
    }
    world, choices = load_world(), 0
    for record in read_records(tmp_path / "run" / "trajectories.jsonl"):
        task = tasks[record["task_id"]]
        run = run_gold_plan(task, world.result)
        answer = record["messages"][-1]["content"]
        assert run.complete and unstated(answer, run) is None, answer
        last = len(task.atomic_tasks) - 1
        sides = run.choice(last)
        if sides is not None:
            choices += 1
            assert wrong_side(_swapped(answer, run.inputs[sides[0]], run.inputs[sides[1]]), run, last), answer
    assert choices >= 20


def _swapped(answer: str, one: dict[str, Any], other: dict[str, Any]) -> str:
    """The answer with the two sides' differing look-up values exchanged (the values stay)."""
    for key, value in one.items():
        a, b = str(value), str(other[key])
        if a != b:
            answer = answer.replace(a, "\0").replace(b, a).replace("\0", b)
    return answer
