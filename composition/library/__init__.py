"""The typed atomic-task library: entries, their loader, and how an entry becomes an AtomicTask."""

from composition.library.loader import LibraryError, TaskLibrary, load_library
from composition.library.models import LibraryEntry, SlotSpec
from composition.library.realize import Placed, realize

__all__ = ["LibraryEntry", "LibraryError", "Placed", "SlotSpec", "TaskLibrary", "load_library", "realize"]
