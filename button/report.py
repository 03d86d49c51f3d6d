"""A plain-text table of a run's stats, printed when a run ends."""

from __future__ import annotations

from typing import Any


def _reasons(rejected: dict[str, int], limit: int = 3) -> str:
    top = sorted(rejected.items(), key=lambda item: -item[1])[:limit]
    return ", ".join(f"{reason} {count}" for reason, count in top) or "-"


def stats_table(stats: dict[str, Any]) -> str:
    """Rows: each bottom-up stage, then tasks, trajectories and exports, with top rejection reasons."""
    rows: list[tuple[str, str, str, str]] = []
    for name, stage in stats.get("stages", {}).items():
        rows.append((f"stage {name}", str(stage["made"]), str(stage["kept"]), _reasons(stage["rejected"])))
    for name in ("tasks", "trajectories"):
        part = stats[name]
        rows.append((name, str(part["total"]), str(part["kept"]), _reasons(part["rejected"])))
    for name, count in stats.get("exports", {}).items():
        rows.append((f"export {name}", str(count), str(count), "-"))
    header = ("what", "made", "kept", "top rejections")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
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
