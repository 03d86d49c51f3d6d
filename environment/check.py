"""The check contract: what every verification check is, and what it may be built from.

A check is any object with a ``name`` and an async ``__call__(trajectory, task)`` returning a
:class:`CheckResult`, so checks are pluggable, including slow ones such as an LLM judge. The
deterministic ones subclass :class:`Check` and only say what is wrong.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from composition.errors import ConfigurationError
from composition.gold import FunctionCaller
from composition.models import CompositionalTask
from environment.trajectory import CheckResult, Trajectory


class TrajectoryCheck(Protocol):
    name: str

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult: ...


@dataclass(frozen=True)
class CheckSettings:
    """What built-in checks may need from the run: the turn limit, and a source of true
    function results (``truth``: a ``call(name, arguments)`` callable, or None when the tools
    are not backed by a grounded world)."""

    max_turns: int
    truth: FunctionCaller | None = None


class Check(ABC):
    """A deterministic check: ``problem`` says what is wrong, or None when the trajectory passes.

    A check with ``only_if_passing = True`` runs only when everything before it passed.
    """

    name: ClassVar[str]
    reason: ClassVar[str]
    only_if_passing: ClassVar[bool] = False

    async def __call__(self, trajectory: Trajectory, task: CompositionalTask) -> CheckResult:
        problem = self.problem(trajectory, task)
        if problem is None:
            return CheckResult(name=self.name, passed=True, detail=self.note(trajectory, task))
        return CheckResult(name=self.name, passed=False, reason=self.reason, detail=problem)

    @classmethod
    def from_settings(cls, settings: CheckSettings) -> Check:
        """Build the check from the run settings it may need."""
        return cls()

    @abstractmethod
    def problem(self, trajectory: Trajectory, task: CompositionalTask) -> str | None:
        """None when the trajectory passes; otherwise what is wrong, in one line."""

    def note(self, trajectory: Trajectory, task: CompositionalTask) -> str:
        """A detail for a passing result (e.g. why nothing could be checked); empty by default."""
        return ""


def truth_caller(source: Any) -> FunctionCaller | None:
    """A truth source as a ``call(name, arguments)`` callable: a callable as it is, an object by
    its ``call`` method (such as a loaded world), None as None."""
    if source is None or callable(source) and not hasattr(source, "call"):
        return source
    call = getattr(source, "call", None)
    if not callable(call):
        raise ConfigurationError(
            f"environment.truth built a {type(source).__name__}; a truth source is a call(name, arguments) "
            "callable or an object with such a call method (a grounded world)"
        )
    return call
