"""``button show RUN_DIR``: conversations of a run, readable in the terminal.

Colour only where it helps reading (roles, calls, results, verdicts) and only on a terminal;
piped or redirected output is plain text. ``NO_COLOR`` turns colour off everywhere.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from button.run_data import RunDirectoryError, read_trajectories
from environment.transcript import Style, plain, transcript
from environment.trajectory import Trajectory

#: ANSI SGR codes per kind of text of :func:`environment.transcript.transcript`.
COLOURS = {
    "user": "1;36",
    "assistant": "1;35",
    "tool": "1;33",
    "thought": "2;3",
    "call": "33",
    "result": "32",
    "error": "31",
    "final": "1",
    "kept": "1;32",
    "rejected": "1;31",
    "check": "31",
    "header": "1;4",
}


def ansi(kind: str, text: str) -> str:
    code = COLOURS.get(kind)
    return f"\033[{code}m{text}\033[0m" if code else text


def _wants_colour(choice: str) -> bool:
    if choice != "auto":
        return choice == "always"
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="button show",
        description="Print conversations of a run directory: roles, thoughts, calls with their "
        "arguments, results and the final answer; for a rejected one, its reason and failing checks.",
    )
    parse.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parse.add_argument("--n", type=int, default=3, help="how many to print (default 3; 0 prints all that match)")
    parse.add_argument("--id", action="append", default=[], metavar="ID",
                       help="a trajectory id or task id (repeatable); a unique prefix is enough")
    parse.add_argument("--rejected", action="store_true", help="only rejected trajectories")
    parse.add_argument("--reason", help="only trajectories rejected for this reason (implies --rejected)")
    parse.add_argument("--strategy", help="only tasks composed by this strategy")
    parse.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                       help="colour: on a terminal (auto), always or never")
    return parse


def _matches_id(trajectory: Trajectory, wanted: str) -> bool:
    return trajectory.id.startswith(wanted) or trajectory.task_id.startswith(wanted)


def _known(values: Counter[str]) -> str:
    return ", ".join(f"{value} ({count})" for value, count in values.most_common()) or "none"


def select(trajectories: list[Trajectory], options: argparse.Namespace) -> list[Trajectory]:
    """The trajectories the filters ask for, in file order; an unknown value is an error that
    lists the values the run has."""
    chosen = trajectories
    for wanted in options.id:
        if not any(_matches_id(trajectory, wanted) for trajectory in trajectories):
            raise RunDirectoryError(f"--id {wanted}: no trajectory or task id starts with it")
    if options.id:
        chosen = [t for t in chosen if any(_matches_id(t, wanted) for wanted in options.id)]
    if options.strategy is not None:
        strategies = Counter(t.strategy for t in trajectories)
        if options.strategy not in strategies:
            raise RunDirectoryError(f"--strategy {options.strategy}: not in this run; strategies: {_known(strategies)}")
        chosen = [t for t in chosen if t.strategy == options.strategy]
    if options.rejected or options.reason is not None:
        chosen = [t for t in chosen if not t.kept]
    if options.reason is not None:
        reasons = Counter(t.reject_reason or "unknown" for t in trajectories if not t.kept)
        if options.reason not in reasons:
            raise RunDirectoryError(f"--reason {options.reason}: no trajectory rejected for it; reasons: {_known(reasons)}")
        chosen = [t for t in chosen if t.reject_reason == options.reason]
    return chosen if options.n <= 0 else chosen[: options.n]


def header(trajectory: Trajectory, style: Style) -> str:
    tools = ", ".join(spec.name for spec in trajectory.functions) or "none"
    title = f"{trajectory.id}  task {trajectory.task_id}  {trajectory.strategy or '-'}"
    return f"{style('header', title)}\ntools: {tools}"


def render(trajectories: list[Trajectory], style: Style = plain) -> str:
    return "\n\n".join(f"{header(t, style)}\n{transcript(t, style)}" for t in trajectories)


def main(arguments: Sequence[str]) -> int:
    options = parser().parse_args(arguments)
    if options.n < 0:
        raise RunDirectoryError(f"--n {options.n}: must be 0 (all) or more")
    trajectories = read_trajectories(options.run_dir)
    chosen = select(trajectories, options)
    if not chosen:
        print(f"button show: no trajectory of {len(trajectories)} in {options.run_dir} matches", file=sys.stderr)
        return 1
    print(render(chosen, ansi if _wants_colour(options.color) else plain))
    return 0
