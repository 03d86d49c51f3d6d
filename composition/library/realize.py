"""Turn a library entry, literal slot values and bound producers into an AtomicTask.

A bound slot reads as the producer's reference phrase ("the author of the book Dune"), so a
consumer's text stays self-contained ("When was the author of the book Dune born?") and its
own reference nests the producer's, which is how chains read naturally at any length.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from composition.ids import content_id
from composition.library.models import LibraryEntry
from composition.models import AtomicTask, OutputRef, Step


@dataclass(frozen=True)
class Placed:
    """An entry realized at position ``index`` of a composition."""

    index: int
    entry: LibraryEntry
    task: AtomicTask

    @property
    def reference(self) -> str:
        return self.task.reference or ""


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def realize(
    entry: LibraryEntry,
    index: int,
    literals: Mapping[str, Any],
    bound: Mapping[str, Placed],
    seed: int | None = None,
    shown: Mapping[str, Any] | None = None,
) -> Placed:
    """The atomic task for ``entry``: ``literals`` fill some slots, producers in ``bound`` the rest.
    ``shown`` may say how a literal reads in text when that differs from the value itself
    ('the Netherlands' for the argument 'Netherlands')."""
    missing = sorted(set(entry.slots) - set(literals) - set(bound))
    if missing:
        raise ValueError(f"entry {entry.id!r}: slots {missing} have neither a literal nor a producer")
    phrases = {slot: entry.slots[slot].render((shown or {}).get(slot, value)) for slot, value in literals.items()}
    phrases.update({slot: producer.reference for slot, producer in bound.items()})
    text = _sentence(entry.template.format(**phrases))
    step = Step(
        function=entry.function.name if entry.function else None,
        operation=entry.operation,
        arguments=dict(literals),
        bindings={
            slot: OutputRef(task=producer.index, field=producer.entry.output_field)
            for slot, producer in bound.items()
        },
        output_field=entry.output_field,
    )
    task = AtomicTask(
        id=content_id("atomic", {"entry": entry.id, "text": text}, seed),
        text=text,
        scenario=entry.scenario,
        functions=[entry.function] if entry.function else [],
        output_type=entry.output_type,
        reference=entry.reference.format(**phrases),
        unit=entry.unit,
        step=step,
    )
    return Placed(index=index, entry=entry, task=task)
