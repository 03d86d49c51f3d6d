"""Training-data exporters for kept trajectories, and strict readers of what they write.

Importing the package registers the built-in formats (button, openai, hf, sharegpt).
"""

from environment.export import button, hf, openai, sharegpt  # noqa: F401  (registers the formats)
from environment.export.base import ExportError, Exporter, ExportSet, available_exporters, get_exporter, register_exporter

__all__ = ["ExportError", "ExportSet", "Exporter", "available_exporters", "get_exporter", "register_exporter"]
