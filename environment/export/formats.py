"""The export formats by name, and the set of them a run writes.

A format is an ``Exporter`` subclass: a built-in one by its short name (``hf``), any other by
its dotted path (``my_module.MyExporter``) in ``export.formats`` (see docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from composition.errors import ConfigurationError
from composition.jsonl import JsonlWriter
from composition.plugins import resolve_class
from environment.export.base import Exporter
from environment.export.button import ButtonExporter
from environment.export.card import CardStats, write_card
from environment.export.hf import HFExporter
from environment.export.openai import OpenAIExporter
from environment.export.sharegpt import ShareGPTExporter
from environment.trajectory import Trajectory

BUILT_IN_EXPORTERS: dict[str, type[Exporter]] = {
    cls.name: cls for cls in (ButtonExporter, HFExporter, OpenAIExporter, ShareGPTExporter)
}


def available_exporters() -> list[str]:
    return list(BUILT_IN_EXPORTERS)


def exporter_class(name: str) -> type[Exporter]:
    """The format an ``export.formats`` entry names: a built-in's name or a dotted path (``pkg.module.Class``)."""
    return resolve_class(name, BUILT_IN_EXPORTERS, Exporter, "export.formats", "export format")


def get_exporter(name: str, options: Mapping[str, Any] | None = None) -> Exporter:
    """The format ``name`` names, built with ``options`` (its ``Options`` fields)."""
    return exporter_class(name)(**(options or {}))


class ExportSet:
    """Writes every kept trajectory to ``<run_dir>/export/<format file>`` for each chosen format,
    and on close the dataset card (``export/README.md``) describing them.

    ``options`` maps a format name to its options (those of formats not chosen are ignored);
    ``settings`` are the generator settings the card lists (model, seed, protocol, ...).
    """

    def __init__(
        self,
        run_dir: Path,
        names: list[str],
        options: Mapping[str, Mapping[str, Any]] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        options = dict(options or {})
        unknown = sorted(set(options) - set(names) - set(BUILT_IN_EXPORTERS))
        if unknown:
            raise ConfigurationError(f"export.options names unknown formats {unknown}; known: {', '.join(sorted({*names, *BUILT_IN_EXPORTERS}))}")
        self.exporters = [get_exporter(name, options.get(name)) for name in names]
        self.directory = Path(run_dir) / "export"
        self.directory.mkdir(parents=True, exist_ok=True)  # made even with no format, so it can be swapped in
        self._writers = [JsonlWriter(self.directory / exporter.filename) for exporter in self.exporters]
        self._settings = dict(settings or {})
        self._stats = CardStats()
        self._sample: dict[str, Any] | None = None

    def write(self, trajectory: Trajectory) -> None:
        """Convert for all formats first, so a refused trajectory leaves every file untouched."""
        if not trajectory.kept:
            raise ValueError(f"trajectory {trajectory.id} was rejected ({trajectory.reject_reason}); only kept ones are exported")
        records = [exporter.convert(trajectory) for exporter in self.exporters]
        for writer, record in zip(self._writers, records):
            writer.write(record)
        self._stats.add(trajectory)
        if self._sample is None:
            names = [exporter.name for exporter in self.exporters]
            self._sample = records[names.index("hf") if "hf" in names else 0]

    def close(self) -> None:
        for writer in self._writers:
            writer.close()
        formats = {exporter.name: exporter.filename for exporter in self.exporters}
        descriptions = {exporter.name: exporter.describe() for exporter in self.exporters}
        if formats:  # a card describes files; with no export format there are none
            write_card(self.directory, formats, descriptions, self._stats, self._settings, self._sample)

    def __enter__(self) -> ExportSet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
