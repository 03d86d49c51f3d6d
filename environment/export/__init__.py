"""Training-data exporters for kept trajectories, and strict readers of what they write."""

from environment.export.base import ExportError, Exporter
from environment.export.formats import BUILT_IN_EXPORTERS, ExportSet, available_exporters, exporter_class, get_exporter

__all__ = ["BUILT_IN_EXPORTERS", "ExportError", "ExportSet", "Exporter", "available_exporters", "exporter_class", "get_exporter"]
