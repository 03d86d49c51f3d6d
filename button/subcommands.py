"""``button show``, ``button report`` and ``button merge``: commands that read run directories instead of running one.

A first argument naming one of them is taken out of Hydra's hands; anything else is an
override for a run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import import_module

from composition.errors import ButtonError

SUBCOMMANDS = {
    "show": "button.show",
    "report": "button.report",
    "merge": "button.merge",
    "eval": "button.evaluate",
    "eval-compare": "button.eval_table",
}


def run_subcommand(name: str, arguments: Sequence[str]) -> int:
    """Run one subcommand; its errors are one line on stderr and exit status 2."""
    try:
        return import_module(SUBCOMMANDS[name]).main(arguments)
    except ButtonError as error:
        print(f"button {name}: error: {error}", file=sys.stderr)
        return 2
