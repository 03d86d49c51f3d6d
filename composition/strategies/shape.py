"""The DAG a strategy draws, and the rejection raised when the library cannot realize it."""

from __future__ import annotations

from dataclasses import dataclass


class NoTypeMatch(Exception):
    """The library holds no atomic tasks whose types fit the drawn shape (a rejection, not a bug)."""

    reason = "no_type_match"


@dataclass(frozen=True)
class TaskShape:
    """A DAG over ``size`` atomic tasks, listed so that every producer comes before its consumers."""

    size: int
    edges: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"a shape needs at least one task, got size={self.size}")
        for source, target in self.edges:
            if not 0 <= source < target < self.size:
                raise ValueError(f"edge {(source, target)} must go forward between tasks 0..{self.size - 1}")

    def producers(self, index: int) -> list[int]:
        return [source for source, target in self.edges if target == index]

    def consumers(self, index: int) -> list[int]:
        return [target for source, target in self.edges if source == index]

    def sinks(self) -> list[int]:
        """The tasks no other consumes: the final answer states each one's value."""
        return [index for index in range(self.size) if not self.consumers(index)]
