"""SIGINT and SIGTERM as a request to stop cleanly, not a traceback.

While the pipeline's event loop runs, either signal asks the run to stop: no new request is
started, records being written finish whole, stats.json is written marked interrupted and
the process exits 128 + the signal's number. A second signal ends the process at once (the
run directory stays resumable: records are whole lines). Outside the loop (start-up), the
CLI turns the signals into :class:`Interrupted`, which it reports in one line.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable

from button.ending import EXIT_SIGNAL_BASE

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived before the run's event loop took over the signals."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def install_startup_handlers() -> None:
    """Before the event loop runs, SIGINT and SIGTERM raise Interrupted (caught by the CLI)."""
    for signum in SIGNALS:
        signal.signal(signum, raise_interrupted)


class StopRequest:
    """The first stop signal received during a run, and who to tell about it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._listeners: list[Callable[[], None]] = []

    @property
    def name(self) -> str | None:
        return signal.Signals(self.signum).name if self.signum is not None else None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        for signum in SIGNALS:
            try:
                loop.add_signal_handler(signum, self.received, signum)
            except NotImplementedError:  # event loops without signal support (Windows): Ctrl-C stays abrupt
                return

    def received(self, signum: int) -> None:
        if self.signum is not None:
            print(f"button: {signal.Signals(signum).name} again: stopping at once", file=sys.stderr)
            os._exit(EXIT_SIGNAL_BASE + self.signum)
        self.signum = signum
        for listener in self._listeners:
            listener()

    def on_stop(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` when a stop is requested (at once if it already was)."""
        self._listeners.append(listener)
        if self.signum is not None:
            listener()
