"""One plug-in of each kind, defined outside the package and chosen from config alone.

docs/extending.md shows these classes; tests/test_extending.py runs them through the CLI.
With this folder importable (``PYTHONPATH=examples``), each is named by its dotted path:

    PYTHONPATH=examples button '+composition.strategies={extensions.TwoChains: 1}' \\
        'environment.checks=[final_answer,correct_answer,extensions.ShortAnswer]' \\
        'export.formats=[hf,extensions.QAExporter]'

The fourth plug-in point, a role, is ``examples/custom_role.py`` (chosen by ``_target_``).
"""

from __future__ import annotations

import random
from typing import Any

from composition.filters import CHECKS
from composition.models import CompositionalTask
from composition.strategies import CompositionStrategy, TaskShape
from environment.answers import final_answer
from environment.check import Check
from environment.export import ExportError, Exporter
from environment.trajectory import Trajectory


class TwoChains(CompositionStrategy):
    """Two independent two-step chains asked in one request ("Who directed X, and where was
    that director born? What is the team of player Y, and who coaches that team?").

    The two chains share no edge, so the strategy leaves ``disconnected_task`` out of its filters;
    the offline library realizes the shape by type matching, one chain from each sink."""

    name = "two_chains"
    description = (
        "Two independent chains of two tasks, asked together: in each, the second task needs "
        "the answer of the first; the answer gives the result of both chains."
    )
    filters = tuple(code for code in CHECKS if code != "disconnected_task")

    def shape(self, rng: random.Random) -> TaskShape:
        return TaskShape(size=4, edges=((0, 1), (2, 3)))


class ShortAnswer(Check):
    """The final answer stays under ``MAX_WORDS`` words: a trainer who wants terse replies
    rejects the rambling ones (reason ``long_answer``)."""

    name = "short_answer"
    reason = "long_answer"
    MAX_WORDS = 120

    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        answer = final_answer(trajectory)
        words = len(answer.content.split()) if answer is not None else 0
        return f"the final answer has {words} words, the limit is {self.MAX_WORDS}" if words > self.MAX_WORDS else None


class QAExporter(Exporter):
    """Question-answer pairs: the user's request and the assistant's final answer, no calls
    (e.g. to train or evaluate the answer-writing step alone)."""

    name = "qa"
    filename = "qa.jsonl"
    summary = "question and final answer only, for answer-writing models"

    def convert(self, trajectory: Trajectory) -> dict[str, Any]:
        question = next(message.content for message in trajectory.messages if message.role == "user")
        answer = final_answer(trajectory)
        if answer is None:
            raise ExportError(f"trajectory {trajectory.id} has no final answer")
        return {"id": trajectory.id, "question": question, "answer": answer.content}
