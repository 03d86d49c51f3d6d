"""stats.json: what each stage made, kept and rejected, derived from the records on disk.

Counting from the files (not from in-memory counters) keeps the numbers right across resumed
runs: a rerun that finishes the work reports the whole run directory, not just its own part.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from composition.errors import ConfigurationError, field_problems
from composition.jsonl import read_records
from environment.export import exporter_class
from environment.quality import run_quality
from environment.run_files import RunFiles


class Price(BaseModel):
    """Dollars (or the table's currency) per million prompt and completion tokens."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)


def parse_prices(pricing: Mapping[str, Any] | None) -> dict[str, Price]:
    """The ``pricing.per_million_tokens`` table; a bad entry is one line naming it."""
    table = (pricing or {}).get("per_million_tokens") or {}
    prices: dict[str, Price] = {}
    for name, entry in table.items():
        try:
            prices[name] = Price.model_validate(entry)
        except ValidationError as error:
            first = field_problems(error, f"pricing.per_million_tokens.{name}")[0]
            raise ConfigurationError(
                f"{first} "
                "(each entry is {prompt: <price>, completion: <price>})"
            ) from None
    return prices


def with_costs(models: Mapping[str, Mapping[str, Any]], prices: Mapping[str, Price]) -> dict[str, dict[str, Any]]:
    """Each model's usage plus ``cost``: the estimate from the price table, None when unlisted.
    Cache hits cost nothing; only tokens of answers the endpoint sent are priced."""
    priced: dict[str, dict[str, Any]] = {}
    for name, usage in models.items():
        price = prices.get(name)
        cost = None
        if price is not None:
            cost = round(
                (usage.get("prompt_tokens", 0) * price.prompt + usage.get("completion_tokens", 0) * price.completion) / 1e6,
                6,
            )
        priced[name] = {**usage, "cost": cost}
    return priced


def _count_records(path: Path) -> dict[str, Any]:
    total = kept = 0
    reasons: Counter[str] = Counter()
    extra: dict[str, Counter[str]] = {"termination": Counter(), "strategy": Counter()}
    parallel_turns = coercions = 0
    repairs: Counter[str] = Counter()
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
        coercions += record.get("coercions", 0)
        repairs.update(record.get("repairs", {}))
    summary: dict[str, Any] = {"total": total, "kept": kept, "rejected": dict(reasons.most_common())}
    summary.update({f"by_{key}": dict(counter.most_common()) for key, counter in extra.items() if counter})
    if path.name == "trajectories.jsonl":
        summary["turns_with_parallel_calls"] = parallel_turns
        summary["argument_coercions"] = coercions  # exact type conversions (environment/arguments.py)
        summary["repaired_turns"] = dict(repairs.most_common())  # composition/llm/reading.py
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
    prices: Mapping[str, Price] | None = None,
    currency: str = "USD",
) -> dict[str, Any]:
    """stats.json. ``tasks``/``trajectories``/``exports`` count the whole run directory;
    ``stages``, ``models`` and timings describe this invocation (a resumed run's own work)."""
    trajectories = _count_records(files.trajectories)
    wall = timings.get("wall", 0.0)
    priced = with_costs(models, prices or {})
    known = [usage["cost"] for usage in priced.values() if usage["cost"] is not None]
    return {
        "settings": settings,
        "tasks": _count_records(files.tasks),
        "trajectories": trajectories,
        "stages": stages,
        "exports": {name: count_lines(files.export_dir / exporter_class(name).filename) for name in exports},
        "models": priced,
        "cost": {
            "currency": currency,
            "total": round(sum(known), 6) if known else None,
            "unpriced_models": sorted(name for name, usage in priced.items() if usage["cost"] is None),
        },
        "timings_s": {key: round(value, 3) for key, value in timings.items()},
        "new_trajectories": new_trajectories,
        "new_trajectories_per_s": round(new_trajectories / wall, 2) if wall else None,
        "runner_errors": runner_errors,
        "quality": run_quality(files.trajectories, files.tasks),
    }
