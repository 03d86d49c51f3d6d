"""plan_leak: the simulated user must not hand the assistant the sub-task breakdown.

Planning the steps is the skill the data teaches; a user turn that restates the atomic tasks
does the assistant's job for it. A user turn leaks the plan when it

- restates two or more atomic task texts nearly verbatim (at least 80% of a text's word triples
  appear in the turn), one of them not already restated by the compositional task text itself
  (a parallel-then-sequential task's last sub-task often is the whole request), or
- enumerates steps: two or more list lines ("1.", "2)", "- ", "* ") that ask something (end
  with "?" or start with a task verb such as "find", "check", "then"), or "step 1", "step 2".
  A list of details ("- Budget: 500 dollars") is no plan.
"""

from __future__ import annotations

import re
from functools import lru_cache

from composition.models import CompositionalTask
from environment.check import Check
from environment.trajectory import Trajectory

NEAR_VERBATIM = 0.8
_WORD = re.compile(r"\w+")
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s+(.+?)\s*$", re.MULTILINE)
_ASKS = re.compile(
    r"\?$|^(?:first|then|next|after that|finally|find|get|look|check|search|compare|calculate|compute|convert"
    r"|work out|figure out|tell|book|see|determine|identify)\b",
    re.IGNORECASE,
)
_STEP = re.compile(r"\bstep\s*(\d+|one|two|three|four)\b", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    """Word triples (the whole text when shorter): short questions share pairs like "capital of".
    Cached, since the same task texts recur in every conversation about them."""
    words = _WORD.findall(text.casefold())
    return frozenset(tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))) if words else frozenset()


def _holds(said: frozenset[tuple[str, ...]], sub_task: str) -> bool:
    wanted = _shingles(sub_task)
    return bool(wanted) and len(wanted & said) >= NEAR_VERBATIM * len(wanted)


def restates(text: str, sub_task: str) -> bool:
    """Whether ``text`` holds ``sub_task`` nearly verbatim."""
    return _holds(_shingles(text), sub_task)


def enumerates_steps(text: str) -> bool:
    asking = [item for item in _LIST_ITEM.findall(text) if _ASKS.search(item)]
    return len(asking) >= 2 or len({m.lower() for m in _STEP.findall(text)}) >= 2


class NoPlanLeak(Check):
    name = "no_plan_leak"
    reason = "plan_leak"

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        texts = [atomic.text for atomic in task.atomic_tasks]
        in_request = {index for index, text in enumerate(texts) if restates(task.text, text)}
        for position, message in enumerate(trajectory.messages):
            if message.role != "user":
                continue
            if enumerates_steps(message.content):
                return f"user turn {position} enumerates steps"
            said = _shingles(message.content)
            restated = {index for index, text in enumerate(texts) if _holds(said, text)}
            if len(restated) >= 2 and restated - in_request:
                shown = [texts[index] for index in sorted(restated)]
                return f"user turn {position} restates the sub-tasks {shown}"
        return None
