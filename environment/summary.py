"""stats.json: what each stage made, kept and rejected, derived from the records on disk.

Counting from the files (not from in-memory counters) keeps the numbers right across resumed
runs: a rerun that finishes the work reports the whole run directory, not just its own part.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from composition.jsonl import read_records
from environment.run_files import RunFiles


def _count_records(path: Path) -> dict[str, Any]:
    total = kept = 0
    reasons: Counter[str] = Counter()
    extra: dict[str, Counter[str]] = {"termination": Counter(), "strategy": Counter()}
    parallel_turns = 0
    for record in read_records(path):
        total += 1
        if record.get("kept"):
            kept += 1
        else:
            reasons[record.get("reject_reason") or "unknown"] += 1
        for key, counter in extra.items():
            if key in record:
                counter[record[key]] += 1
        parallel_turns += sum(len(m.get("tool_calls", [])) > 1 for m in record.get("messages", []))
    summary: dict[str, Any] = {"total": total, "kept": kept, "rejected": dict(reasons.most_common())}
    summary.update({f"by_{key}": dict(counter.most_common()) for key, counter in extra.items() if counter})
    if path.name == "trajectories.jsonl":
        summary["turns_with_parallel_calls"] = parallel_turns
    return summary


def count_lines(path: Path) -> int:
    return sum(1 for _ in read_records(path))


def build_stats(
    files: RunFiles,
    *,
    stages: dict[str, Any],
    models: dict[str, Any],
    timings: dict[str, float],
    new_trajectories: int,
    runner_errors: dict[str, int],
    exports: list[str],
    settings: dict[str, Any],
) -> dict[str, Any]:
    trajectories = _count_records(files.trajectories)
    wall = timings.get("wall", 0.0)
    return {
        "settings": settings,
        "tasks": _count_records(files.tasks),
        "trajectories": trajectories,
        "stages": stages,
        "exports": {name: count_lines(files.export_dir / f"{name}.jsonl") for name in exports},
        "models": models,
        "timings_s": {key: round(value, 3) for key, value in timings.items()},
        "new_trajectories": new_trajectories,
        "new_trajectories_per_s": round(new_trajectories / wall, 2) if wall else None,
        "runner_errors": runner_errors,
    }
