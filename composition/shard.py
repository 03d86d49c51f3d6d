"""Shards: one process's deterministic share of a run, so N processes together make one run.

"One run" of some settings is the task stream its source yields for the seed, cut after the
``num_tasks``-th kept task: the kept tasks and the rejected records between them, in order.
Shard ``I/N`` takes kept task number ``k`` (counting from 0) when ``k % N == I``, together with
the rejected records that came just before it, so every record of the run belongs to exactly
one shard. Each shard walks the whole stream (composing is cheap offline; an LLM source asks
for every task in each shard unless its answers are cached) and plays only its own tasks, so
the shards' run directories together hold the same ids and records as the single run.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

from composition.errors import ConfigurationError
from composition.models import CompositionalTask

_SHARD = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count``, written ``index/count`` (``0/4`` .. ``3/4``)."""

    index: int
    count: int

    @classmethod
    def parse(cls, value: object) -> Shard | None:
        """``"I/N"`` with 0 <= I < N, or None for an unsharded run; anything else is a ConfigurationError."""
        if value is None:
            return None
        match = _SHARD.fullmatch(str(value).strip())
        if match is None:
            raise ConfigurationError(f"shard={value!r}: expected I/N, such as shard=0/4 (null: not sharded)")
        index, count = int(match[1]), int(match[2])
        if count < 1 or index >= count:
            raise ConfigurationError(f"shard={value!r}: needs N >= 1 and 0 <= I < N, such as shard=0/4 .. shard=3/4")
        return cls(index, count)

    def owns(self, kept_before: int) -> bool:
        """Whether the record after ``kept_before`` kept tasks of the stream is this shard's."""
        return kept_before % self.count == self.index

    def kept_share(self, num_tasks: int) -> int:
        """How many of a run's ``num_tasks`` kept tasks are this shard's."""
        return len(range(self.index, num_tasks, self.count))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


async def shard_stream(
    tasks: AsyncIterator[CompositionalTask], shard: Shard | None
) -> AsyncIterator[CompositionalTask]:
    """This shard's records of ``tasks``, in stream order (all of them when ``shard`` is None)."""
    kept_before = 0
    async with aclosing(tasks) as stream:  # type: ignore[type-var]  # an async generator in practice
        async for task in stream:
            if shard is None or shard.owns(kept_before):
                yield task
            kept_before += task.kept
