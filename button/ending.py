"""How a run ended, said honestly: exit codes, and why fewer tasks were kept than asked for.

A run that falls short of ``num_tasks`` says so in one warning naming its main causes (the
source ran out of new material, rejections by reason, endpoint errors) and records the same in
stats.json under ``ending``; a run that kept nothing at all is an error with its own exit code.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

from composition.llm.structured import ENDPOINT_ERROR

#: Exit codes of ``button`` (documented in the README's "At scale" section).
EXIT_BAD_INPUT = 2
EXIT_NOTHING_KEPT = 3
EXIT_RUN_DIR_BUSY = 4
EXIT_CANNOT_WRITE = 5
#: Interrupted runs exit 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM.
EXIT_SIGNAL_BASE = 128

SOURCE_ENDS = {
    "exhausted": "the seed material stopped giving new scenarios",
    "no_new_tasks": "the last scenarios gave no kept task (composition.source.patience)",
    "endpoint_failed": "the bottom-up stages lost their work to endpoint errors, not to a lack of seed material",
}


def _source_end(source_end: str | None, kept: int, rejections: Counter[str]) -> str | None:
    """The source's own reason, except that a source which ran dry only because the endpoint
    failed every request it rejected is not said to have run out of seed material."""
    if source_end != "exhausted" or kept:
        return source_end
    endpoint_only = bool(rejections) and all(where.endswith(f":{ENDPOINT_ERROR}") for where in rejections)
    return "endpoint_failed" if endpoint_only else source_end


def _rejections(summary: dict[str, Any]) -> Counter[str]:
    """Rejections of this invocation's stages and of the run's trajectories, as ``where:reason``."""
    counts: Counter[str] = Counter()
    for name, stage in summary.get("stages", {}).items():
        counts.update({f"{name}:{reason}": count for reason, count in stage.get("rejected", {}).items()})
    counts.update({f"trajectory:{reason}": count for reason, count in summary["trajectories"]["rejected"].items()})
    return counts


def _endpoint_errors(summary: dict[str, Any]) -> tuple[int, Counter[str]]:
    failed = sum(usage.get("failed", 0) for usage in summary.get("models", {}).values())
    kinds: Counter[str] = Counter()
    for usage in summary.get("models", {}).values():
        kinds.update(usage.get("retries_by_kind", {}))
    return failed, kinds


def ending(summary: dict[str, Any], num_tasks: int, source_end: str | None, interrupted: str | None) -> dict[str, Any]:
    """The ``ending`` entry of stats.json: kept against asked, and the causes of any shortfall."""
    kept = summary["tasks"]["kept"]
    failed, kinds = _endpoint_errors(summary)
    rejections = _rejections(summary)
    record: dict[str, Any] = {
        "num_tasks": num_tasks,
        "kept_tasks": kept,
        "kept_trajectories": summary["trajectories"]["kept"],
        "shortfall": max(0, num_tasks - kept),
        "interrupted": interrupted,
        "source": _source_end(source_end, kept, rejections),
        "rejections": dict(rejections.most_common(5)),
        "endpoint_errors": {"failed_requests": failed, "retries_by_kind": dict(kinds.most_common())},
    }
    return record


def causes(record: dict[str, Any]) -> str:
    """The main causes of a shortfall in a few words, most telling first."""
    parts = []
    errors = record["endpoint_errors"]
    if errors["failed_requests"]:
        kinds = ", ".join(f"{kind} {count}" for kind, count in errors["retries_by_kind"].items())
        parts.append(f"{errors['failed_requests']} requests failed at the endpoint" + (f" (retries: {kinds})" if kinds else ""))
    if record["source"] in SOURCE_ENDS:
        parts.append(SOURCE_ENDS[record["source"]])
    if record["rejections"]:
        top = ", ".join(f"{reason} {count}" for reason, count in list(record["rejections"].items())[:3])
        parts.append(f"rejections: {top}")
    return "; ".join(parts) or "no cause recorded"


def shortfall_warning(record: dict[str, Any]) -> str | None:
    """One line when fewer tasks were kept than asked for (and the run was not interrupted)."""
    if not record["shortfall"] or record["interrupted"]:
        return None
    return f"kept {record['kept_tasks']} of num_tasks={record['num_tasks']} tasks: {causes(record)}"


def nothing_kept_error(record: dict[str, Any]) -> str | None:
    """One line when the run directory holds no kept trajectory at all."""
    if record["kept_trajectories"] or record["interrupted"]:
        return None
    return f"no trajectory kept ({record['kept_tasks']} tasks kept): {causes(record)}"


def fail(message: str, code: int) -> NoReturn:
    """The one line of a run that cannot go on, and its exit code."""
    print(f"button: error: {message}", file=sys.stderr)
    sys.exit(code)


def cannot_write(run_dir: Path, error: OSError) -> str:
    """One line for a run directory that cannot be written (read-only, full, gone)."""
    where = error.filename or run_dir
    return f"cannot write {where}: {error.strerror or error}; free space or fix permissions, then rerun to resume"
