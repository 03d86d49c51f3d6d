"""What a run prints when it ends: one row per stage, and the commands that look at the result."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("button")


def _reasons(rejected: dict[str, int], limit: int = 3) -> str:
    top = sorted(rejected.items(), key=lambda item: -item[1])[:limit]
    return ", ".join(f"{reason} {count}" for reason, count in top) or "-"


def _exports_row(exports: dict[str, int], kept: int) -> tuple[str, str, str, str]:
    counts = set(exports.values())
    if len(counts) == 1:
        return ("export", str(kept), str(counts.pop()), "as " + ", ".join(exports))
    return ("export", str(kept), "/".join(str(n) for n in exports.values()), "as " + ", ".join(exports))


def stats_table(stats: dict[str, Any]) -> str:
    """One row per stage of this invocation, in pipeline order, then the exports.

    ``stages`` count what this invocation did; when it resumed a run directory, a last line
    gives the totals of the whole directory (tasks.jsonl and trajectories.jsonl).
    """
    rows = [
        (name, str(stage["made"]), str(stage["kept"]), _reasons(stage["rejected"]))
        for name, stage in stats.get("stages", {}).items()
    ]
    trajectories = stats["trajectories"]
    if stats.get("exports"):
        rows.append(_exports_row(stats["exports"], trajectories["kept"]))
    header = ("stage", "made", "kept", "top rejections")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    if stats.get("new_trajectories", trajectories["total"]) != trajectories["total"]:
        tasks = stats["tasks"]
        lines.append(
            f"whole run directory: {tasks['total']} tasks ({tasks['kept']} kept), "
            f"{trajectories['total']} trajectories ({trajectories['kept']} kept)"
        )
    if "quality" in stats:
        lines.append(quality_line(stats["quality"]))
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def quality_line(quality: dict[str, Any]) -> str:
    """The quality figures of stats.json (environment/quality.py) in one line."""
    answers, grams, repeated = quality["answers"], quality["distinct_4grams"], quality["repeated_calls"]
    checked = f"{answers['correct']}/{answers['checked']} correct" if answers["checked"] else "none checked (no world)"
    return (
        f"quality: grounded calls {_percent(quality['grounded_calls']['share'])}; answers {checked}; "
        f"distinct 4-grams user {_percent(grams['user'])}, assistant {_percent(grams['assistant'])}; "
        f"repeated calls agreeing {_percent(repeated['share'])} of {repeated['repeated']}"
    )


def command_name() -> str:
    """How the user invoked ``button`` (``.venv/bin/button`` when typed so), for commands we suggest."""
    invoked = sys.argv[0] if sys.argv else ""
    if Path(invoked).name != "button":
        return "button"
    on_path = shutil.which("button")
    if os.path.isabs(invoked) and on_path and os.path.samefile(on_path, invoked):
        return "button"
    return invoked


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies inside it, as the user would type it."""
    absolute = Path(path).absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def closing_text(stats: dict[str, Any], run_dir: Path) -> str:
    """The table, the run directory, and the two commands that show what is in it."""
    command = command_name()
    shown = shown_path(run_dir)
    return "\n".join(
        [
            stats_table(stats),
            f"run directory: {shown}",
            f"read conversations: {command} show {shown} --n 3",
            f"report with plots:  {command} report {shown}",
        ]
    )


def announce(stats: dict[str, Any], run_dir: Path) -> None:
    """Print the closing text, and keep it in the run's log (app.log) too."""
    text = closing_text(stats, run_dir)
    log.info("run finished\n%s", text)
    print(text)


class SweepHint(Callback):
    """At the end of a sweep (``button -m``), name the command that compares its runs."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        print(f"compare the runs: {command_name()} report {shown_path(Path(config.hydra.sweep.dir))}")
