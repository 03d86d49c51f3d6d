"""Scores a model's conversation on a task against the task's gold plan (``button eval``).

The gold plan (composition.gold) says which calls the task needs, with which arguments and in
which order. It is run against the truth (a grounded world's ``call``) when there is one, so a
consumer's expected arguments are the true values of its producers; without one (tools that
invent their results) it is run on the conversation's own results, so success means the answer
follows from what its tools said. Tasks without a gold plan (written by an LLM) are scored on
success only: the answer must state the tool values a reference conversation's answer states.
A call made by the
model matches a gold step when it names the step's function and agrees on every argument the
step gives (environment.recorded: the same matching the answer checks use).

Per task: ``success`` (the final answer states the true answer, or the reference's), ``progress``
(share of gold calls made with the right arguments), ``call_precision`` (share of the calls made
that a gold step needed), ``call_recall`` (share of gold calls whose function was called at all),
``argument_accuracy`` (of the gold calls whose function was called, the share with the right
arguments), ``dependency_order`` (share of producer/consumer pairs of matched calls made in
order), ``parallel_use`` (the fewest call turns the plan allows over the call turns taken, when
parallel calls are allowed and the plan has independent calls), ``grounded_arguments`` (share
of calls whose arguments all come from the conversation), turns and tokens.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from composition.gold import FunctionCaller, GoldRun, has_gold_plan, run_gold_plan
from composition.values import leaves
from composition.models import CompositionalTask
from environment.answers import final_answer, unstated
from environment.grounding import call_groundings
from environment.mentions import Mentions
from environment.recorded import RecordedCalls
from environment.trajectory import Trajectory

#: The metrics that are shares in [0, 1] (1 is best), in the order tables show them.
SCORES = (
    "success",
    "progress",
    "call_precision",
    "call_recall",
    "argument_accuracy",
    "dependency_order",
    "parallel_use",
    "grounded_arguments",
)
#: Counts averaged per task.
COUNTS = ("turns", "calls", "prompt_tokens", "completion_tokens")


class TaskScore(BaseModel):
    """One task's metrics; a score is None where it does not apply (no call to judge)."""

    task_id: str
    strategy: str
    domains: list[str] = Field(default_factory=list)
    gold_calls: int
    success: float | None = None
    progress: float | None = None
    call_precision: float | None = None
    call_recall: float | None = None
    argument_accuracy: float | None = None
    dependency_order: float | None = None
    parallel_use: float | None = None
    grounded_arguments: float | None = None
    turns: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    termination: str = ""
    kept: bool = False
    reject_reason: str | None = None
    failure: str | None = Field(default=None, description="Why success is 0: the first value the answer misses.")


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def reference_values(reference: Trajectory) -> list[Any]:
    """The tool-result values a reference conversation's final answer states."""
    final = final_answer(reference)
    if final is None:
        return []
    said = Mentions(final.content)
    return [value for result in reference.results if result.error is None for value in leaves(result.results) if said.states(value)]


def _against_reference(score: TaskScore, answer: str, reference: Trajectory | None) -> None:
    values = reference_values(reference) if reference is not None else []
    if not values:
        score.failure = "no gold plan and no reference answer to check against"
        return
    said = Mentions(answer)
    missing = next((value for value in values if not said.states(value)), None)
    score.failure = None if missing is None else f"the final answer does not state {missing!r}, as the reference's does"
    score.success = 0.0 if score.failure else 1.0


def _call_turns(trajectory: Trajectory) -> dict[str, int]:
    """Each call's id -> the index of the assistant message that made it."""
    return {call.id: index for index, message in enumerate(trajectory.messages) for call in message.tool_calls}


def _function_ancestors(task: CompositionalTask, index: int) -> set[int]:
    """The function steps whose output reaches ``index``, through reasoning steps if need be."""
    found: set[int] = set()
    stack = list(task.producers(index))
    while stack:
        producer = stack.pop()
        if task.atomic_tasks[producer].functions:
            found.add(producer)
        else:
            stack.extend(task.producers(producer))
    return found


def gold_waves(task: CompositionalTask) -> list[list[int]]:
    """The gold calls grouped into turns, all ready calls at once (reasoning steps take no turn)."""
    done: set[int] = set()
    waves: list[list[int]] = []
    while True:
        progressed = True
        while progressed:  # reasoning steps are worked out as soon as their inputs exist
            ready = [i for i, a in enumerate(task.atomic_tasks) if i not in done and not a.functions and set(task.producers(i)) <= done]
            done.update(ready)
            progressed = bool(ready)
        wave = [i for i, _ in task.iter_function_tasks() if i not in done and set(task.producers(i)) <= done]
        if not wave:
            return waves
        waves.append(wave)
        done.update(wave)


def score_task(
    task: CompositionalTask,
    trajectory: Trajectory,
    *,
    truth: FunctionCaller | None = None,
    reference: Trajectory | None = None,
    domains: dict[str, str] | None = None,
    model: str | None = None,
) -> TaskScore:
    """Score one conversation; the tokens counted are the assistant's (recorded under its model's
    name, or under its role's when the reply named no model)."""
    usage = [u for name, u in trajectory.usage.items() if name in ("assistant", model)]
    score = TaskScore(
        task_id=task.id,
        strategy=task.strategy,
        domains=sorted({(domains or {}).get(spec.name, "other") for spec in task.functions}),
        gold_calls=sum(1 for _ in task.iter_function_tasks()),
        turns=sum(1 for message in trajectory.messages if message.role == "assistant"),
        calls=len(trajectory.calls),
        prompt_tokens=sum(u.prompt_tokens for u in usage),
        completion_tokens=sum(u.completion_tokens for u in usage),
        termination=trajectory.termination.value,
        kept=trajectory.kept,
        reject_reason=trajectory.reject_reason,
    )
    final = final_answer(trajectory)
    if not has_gold_plan(task):
        if final is None:
            score.success, score.failure = 0.0, f"no final answer ({trajectory.termination.value})"
        else:
            _against_reference(score, final.content, reference)
        return score
    expected = run_gold_plan(task, truth if truth is not None else RecordedCalls(trajectory))
    _score_calls(score, task, trajectory, expected)
    if final is None:
        score.success, score.failure = 0.0, f"no final answer ({trajectory.termination.value})"
    elif not expected.complete:
        score.failure = f"no reference answer: {expected.failure}"
    else:
        score.failure = unstated(final.content, expected)
        score.success = 0.0 if score.failure else 1.0
    problems = [problem for _, problem in call_groundings(trajectory, task)]
    score.grounded_arguments = _share(sum(problem is None for problem in problems), len(problems))
    return score


def _score_calls(score: TaskScore, task: CompositionalTask, trajectory: Trajectory, expected: GoldRun) -> None:
    matcher = RecordedCalls(trajectory)
    turn_of = _call_turns(trajectory)
    matched: dict[int, int] = {}  # gold step -> the turn of the call that made it
    function_steps = [index for index, _ in task.iter_function_tasks()]
    for index in function_steps:
        step = task.atomic_tasks[index].step
        assert step is not None and step.function is not None
        if index not in expected.inputs:
            continue  # the plan stopped before this step: no expected arguments
        before = set(matcher.used)
        try:
            matcher(step.function, dict(expected.inputs[index]))
        except LookupError:
            continue
        # an identical earlier gold call may have matched the same call already: it counts for both
        made = (matcher.used - before) or {call.id for call in trajectory.calls if call.id in matcher.used and call.name == step.function}
        matched[index] = min(turn_of[call_id] for call_id in made)
    called = Counter(call.name for call in trajectory.calls)
    wanted = Counter(task.atomic_tasks[index].step.function for index in function_steps)  # type: ignore[union-attr]
    named = sum(min(count, called[name]) for name, count in wanted.items())
    score.progress = _share(len(matched), len(function_steps))
    score.call_recall = _share(named, len(function_steps))
    score.argument_accuracy = _share(min(len(matched), named), named)
    score.call_precision = _share(len(matcher.used), len(trajectory.calls)) if trajectory.calls else (0.0 if function_steps else None)
    pairs = [(a, b) for b in matched for a in _function_ancestors(task, b) if a in matched]
    score.dependency_order = _share(sum(matched[a] < matched[b] for a, b in pairs), len(pairs))
    waves = gold_waves(task)
    if trajectory.parallel_calls and any(len(wave) > 1 for wave in waves):
        call_turns = len({turn_of[call.id] for call in trajectory.calls})
        score.parallel_use = min(1.0, len(waves) / call_turns) if call_turns else 0.0


def aggregate(scores: Iterable[TaskScore]) -> dict[str, Any]:
    """Means per metric: overall, per strategy, per domain and per number of gold calls."""
    scores = list(scores)
    groups: dict[str, dict[str, list[TaskScore]]] = {"strategy": defaultdict(list), "domain": defaultdict(list), "calls": defaultdict(list)}
    for score in scores:
        groups["strategy"][score.strategy].append(score)
        for domain in score.domains:
            groups["domain"][domain].append(score)
        groups["calls"][str(score.gold_calls)].append(score)
    return {
        "overall": summarize(scores),
        **{f"by_{kind}": {key: summarize(members) for key, members in sorted(found.items())} for kind, found in groups.items()},
    }


def summarize(scores: list[TaskScore]) -> dict[str, Any]:
    """The mean of each score over the tasks it applies to, and of each count over all tasks."""
    summary: dict[str, Any] = {"tasks": len(scores)}
    for name in SCORES:
        values = [value for score in scores if (value := getattr(score, name)) is not None]
        summary[name] = round(sum(values) / len(values), 4) if values else None
    for name in COUNTS:
        summary[name] = round(sum(getattr(score, name) for score in scores) / len(scores), 2) if scores else None
    costs = [score.cost for score in scores if score.cost is not None]
    summary["cost"] = round(sum(costs), 6) if costs else None
    return summary
