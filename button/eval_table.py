"""Tables of ``button eval`` results, and ``button eval-compare DIR...`` over several evaluations."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from composition.errors import ConfigurationError
from environment.evaluation import SCORES

#: Column headers of the scores, in SCORES order.
HEADERS = ("success", "progress", "precision", "recall", "args", "order", "parallel", "grounded")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _table(label: str, rows: Iterable[tuple[str, dict[str, Any]]]) -> str:
    header = [label, "tasks", *HEADERS, "turns", "tokens", "cost"]
    body = [
        [
            name,
            str(row["tasks"]),
            *(_cell(row[key]) for key in SCORES),
            _cell(row["turns"]),
            _cell(round((row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0), 1)),
            _cell(row.get("cost")),
        ]
        for name, row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in [header, *body])


def eval_table(summary: dict[str, Any]) -> str:
    """One evaluation's aggregates: overall, then per strategy, domain and number of gold calls."""
    rows = [("overall", summary["overall"])]
    for kind in ("strategy", "domain", "calls"):
        rows += [(f"{kind}={key}", row) for key, row in summary[f"by_{kind}"].items()]
    return f"model: {summary['model']}\n" + _table("group", rows)


def read_evaluations(paths: Sequence[Path]) -> list[tuple[str, dict[str, Any]]]:
    """(label, eval.json content) per path: a directory or its eval.json."""
    found = []
    for path in paths:
        file = path / "eval.json" if path.is_dir() else path
        if not file.is_file():
            raise ConfigurationError(f"{path}: no eval.json; name a directory `button eval` wrote")
        try:
            summary = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ConfigurationError(f"{file}: line {error.lineno}: not JSON ({error.msg})") from None
        found.append((f"{summary.get('model')} ({file.parent})", summary))
    return found


def comparison_table(evaluations: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """One row per evaluation: its overall scores."""
    return _table("model (run)", [(label, summary["overall"]) for label, summary in evaluations])


def main(arguments: Sequence[str]) -> int:
    """``button eval-compare DIR...``: one row per evaluation directory."""
    if not arguments or any(argument.startswith("-") for argument in arguments):
        raise ConfigurationError("usage: button eval-compare DIR [DIR...] (directories `button eval` wrote)")
    print(comparison_table(read_evaluations([Path(argument) for argument in arguments])))
    return 0
