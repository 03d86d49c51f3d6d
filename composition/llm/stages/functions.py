"""Function generation: general-purpose functions per sub-task, with one repair request.

The model sees the whole compositional task, so a producer's ``responses`` can line up with its
consumer's ``parameters``. Every spec must pass FunctionSpec's checks (identifier name, JSON
Schema meta-schema, object type, ``required`` naming real properties); a plan that fails them
is sent back once with the problems listed, and rejected if it still fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from autogen_core.models import AssistantMessage, UserMessage
from pydantic import BaseModel, ValidationError

from composition.errors import field_problems
from composition.filters import structural_problems
from composition.llm.stages.base import Stage, StageContext, describe_task
from composition.llm.structured import JsonAnswer, Rejection
from composition.llm.templates import render
from composition.models import CompositionalTask, FunctionSpec, union_functions


class FunctionDraft(BaseModel):
    name: str
    description: str
    parameters: dict[str, Any]
    responses: dict[str, Any]


class TaskFunctions(BaseModel):
    task: int
    functions: list[FunctionDraft]


class FunctionPlan(BaseModel):
    tasks: list[TaskFunctions]


def plan_specs(plan: FunctionPlan, size: int) -> tuple[list[list[FunctionSpec]], list[str]]:
    """The validated functions per sub-task, and every problem found (empty when usable)."""
    specs: list[list[FunctionSpec]] = [[] for _ in range(size)]
    problems: list[str] = []
    seen_tasks: set[int] = set()
    by_name: dict[str, FunctionSpec] = {}
    for entry in plan.tasks:
        if not 1 <= entry.task <= size:
            problems.append(f"there is no sub-task {entry.task}; number them 1 to {size}")
            continue
        if entry.task in seen_tasks:
            problems.append(f"sub-task {entry.task} has more than one entry")
            continue
        seen_tasks.add(entry.task)
        for draft in entry.functions:
            try:
                spec = FunctionSpec.model_validate(draft.model_dump())
            except ValidationError as error:
                problems.extend(
                    f"function {draft.name!r} of sub-task {entry.task}: {line}" for line in field_problems(error, inputs=False)
                )
                continue
            if by_name.setdefault(spec.name, spec) != spec:
                problems.append(f"function {spec.name!r} is defined twice with different schemas; define it once")
                continue
            specs[entry.task - 1].append(spec)
    problems += [f"sub-task {number} has no entry" for number in range(1, size + 1) if number not in seen_tasks]
    if not problems and not any(specs):
        problems.append("no sub-task has a function; every sub-task that needs outside information needs one")
    return specs, problems


class FunctionGeneration(Stage):
    name = "functions"
    answer = JsonAnswer.of(FunctionPlan)
    repair_prompt = "functions_repair"

    async def run(
        self, context: StageContext, task: CompositionalTask, filters: Iterable[str] | None = None
    ) -> CompositionalTask:
        """The task with functions on its sub-tasks, or the task rejected with a reason.

        ``filters``: the structural checks the task's strategy declares (all when None)."""
        messages = self.opening(describe_task(task))
        size = len(task.atomic_tasks)
        plan = await self.ask(context, self.answer, messages)
        if not isinstance(plan, Rejection):
            specs, problems = plan_specs(plan, size)
            if problems:  # one repair request, the failed plan and its problems in view
                messages += [
                    AssistantMessage(content=plan.model_dump_json(), source="model"),
                    UserMessage(content=render(self.repair_prompt, problems="\n".join(f"- {p}" for p in problems)), source="user"),
                ]
                plan = await self.ask(context, self.answer, messages)
                if not isinstance(plan, Rejection):
                    specs, problems = plan_specs(plan, size)
                    if problems:
                        plan = Rejection("invalid_functions", "; ".join(problems))
        if isinstance(plan, Rejection):
            self.rejected(context, plan, task.id)
            return task.model_copy(update={"kept": False, "reject_reason": f"{self.name}:{plan.reason}"})
        atomic_tasks = [atomic.model_copy(update={"functions": functions}) for atomic, functions in zip(task.atomic_tasks, specs)]
        done = task.model_copy(update={"atomic_tasks": atomic_tasks, "functions": union_functions(atomic_tasks)})
        problems = structural_problems(done, filters)  # e.g. the task text now gives a function's name away
        if problems:
            self.rejected(context, Rejection(problems[0], ", ".join(problems)), task.id)
            return done.model_copy(update={"kept": False, "reject_reason": f"{self.name}:{problems[0]}"})
        self.counts(context).keep()
        return done
