"""`button merge OUT RUN_DIR...`: several run directories (shards, a multirun, reruns) as one.

Records are copied byte for byte, deduplicated by id (a trajectory by its task: the first run
listed wins); the exports are rebuilt from the merged kept trajectories with the registered exporters, and
stats.json is recounted from the merged files, with the sources' own figures summed and
listed one by one. Runs made with settings that change what the data is are refused, naming
the keys; settings that only change how a run was driven (runner, endpoints, shard, seed,
num_tasks, exports) may differ. The inputs are only read; OUT is written in a staging folder
that takes its name once complete.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from pydantic import ValidationError

from button.app import export_about, export_options
from composition.errors import ButtonError, ConfigurationError
from composition.jsonl import JsonlWriter, read_lines
from composition.shard import Shard
from environment.export import ExportSet
from environment.run_files import RunFiles
from environment.summary import build_stats, parse_prices
from environment.trajectory import Trajectory

#: Config keys (and everything under them) that say how a run was driven, not what it made.
OPERATIONAL = (
    "shard",
    "seed",
    "num_tasks",
    "runner",
    "export",
    "pricing",
    "composition.source.concurrency",
    "model.base_url",
    "model.api_key_env",
    "model.timeout",
    "model.max_retries",
    "model.cache_dir",
)
SAVED_CONFIG = Path(".hydra") / "config.yaml"
#: Record files merged, with the key that identifies a record (a trajectory: its task's id);
#: an LLM source's scenarios and atomic tasks come along when there are any.
RECORDS = (
    ("tasks.jsonl", "id"),
    ("trajectories.jsonl", "task_id"),
    ("scenarios.jsonl", "id"),
    ("atomic_tasks.jsonl", "id"),
)
REQUIRED = {"tasks.jsonl", "trajectories.jsonl"}


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _operational(key: str, ignored: Sequence[str]) -> bool:
    return any(key == name or key.startswith(f"{name}.") for name in (*OPERATIONAL, *ignored))


def saved_config(run: Path) -> dict[str, Any]:
    """The config a run was made with, as Hydra saved it (interpolations left unresolved)."""
    path = run / SAVED_CONFIG
    if not path.is_file():
        raise ConfigurationError(f"{path}: missing; merge compares each run's settings there (button writes it in every run)")
    config = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    assert isinstance(config, dict)
    return config


def incompatible_keys(first: Mapping[str, Any], other: Mapping[str, Any], ignored: Sequence[str] = ()) -> list[str]:
    """Keys whose values differ between two configs, apart from the operational ones."""
    left, right = dict(_flatten(first)), dict(_flatten(other))
    return sorted(
        key for key in left.keys() | right.keys() if not _operational(key, ignored) and left.get(key) != right.get(key)
    )


def check_compatible(runs: Sequence[Path], configs: Sequence[Mapping[str, Any]], ignored: Sequence[str] = ()) -> None:
    for run, config in zip(runs[1:], configs[1:]):
        keys = incompatible_keys(configs[0], config, ignored)
        if keys:
            flat_first, flat_other = dict(_flatten(configs[0])), dict(_flatten(config))
            shown = ", ".join(f"{key} ({flat_first.get(key)!r} vs {flat_other.get(key)!r})" for key in keys[:5])
            more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
            raise ConfigurationError(
                f"{run} was made with other settings than {runs[0]}: {shown}{more}; "
                "merge runs of one configuration (or pass --ignore KEY to merge anyway)"
            )


def _check_paths(out: Path, runs: Sequence[Path]) -> None:
    if not runs:
        raise ConfigurationError("merge needs at least one RUN_DIR")
    listed = Counter(run.resolve() for run in runs)
    twice = [str(run) for run, times in listed.items() if times > 1]
    if twice:
        raise ConfigurationError(f"run directories listed more than once: {', '.join(twice)}")
    for run in runs:
        if not run.is_dir():
            raise ConfigurationError(f"{run}: not a run directory")
        if not (RunFiles(run).tasks.exists() or RunFiles(run).trajectories.exists()):
            raise ConfigurationError(f"{run}: holds neither tasks.jsonl nor trajectories.jsonl")
        if out.resolve() == run.resolve() or run.resolve() in out.resolve().parents:
            raise ConfigurationError(f"OUT {out} must not be, or be inside, an input run directory ({run})")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigurationError(f"OUT {out} already exists and is not an empty directory; merge writes a new one")


def _sum_into(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Adds numbers (and nested counters) of ``part`` into ``total``; other values keep the first seen."""
    for key, value in part.items():
        if isinstance(value, bool) or value is None:
            total.setdefault(key, value)
        elif isinstance(value, (int, float)):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, Mapping):
            _sum_into(total.setdefault(key, {}), value)
        else:
            total.setdefault(key, value)


def _merge_records(
    runs: Sequence[Path], name: str, key: str, out: Path, on_copied: Callable[[dict[str, Any]], None] | None = None
) -> Counter[Path]:
    """Copies, byte for byte, the first record of each ``key`` value to ``out`` (handing each
    copied record to ``on_copied``); returns how many records of each run were dropped."""
    seen: set[str] = set()
    duplicates: Counter[Path] = Counter()
    with JsonlWriter(out) as writer:
        for run in runs:
            for number, line in enumerate(read_lines(run / name), 1):
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not isinstance(record.get(key), str):
                    raise ConfigurationError(f"{run / name}, line {number}: not a JSON record with key {key!r}")
                if record[key] in seen:
                    duplicates[run] += 1
                    continue
                seen.add(record[key])
                writer.write_line(line)
                if on_copied is not None:
                    on_copied(record)
    return duplicates


def _source_stats(run: Path) -> dict[str, Any]:
    path = RunFiles(run).stats
    return json.loads(path.read_text()) if path.is_file() else {}


def merge_runs(out: Path, runs: Sequence[Path], ignored: Sequence[str] = ()) -> dict[str, Any]:
    """Write the merged run directory ``out`` and return its stats.json content."""
    _check_paths(out, runs)
    configs = [saved_config(run) for run in runs]
    check_compatible(runs, configs, ignored)
    formats = list(dict.fromkeys(f for config in configs for f in config.get("export", {}).get("formats", [])))
    staging = out.parent / f".{out.name}.merging"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        stats = _write_merge(staging, runs, configs, formats)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():
        out.rmdir()  # checked empty above
    staging.rename(out)
    return stats


def _write_merge(staging: Path, runs: Sequence[Path], configs: Sequence[Mapping[str, Any]], formats: list[str]) -> dict[str, Any]:
    files = RunFiles(staging)
    try:
        exports = ExportSet(staging, formats, export_options(configs[0]), export_about(configs[0]))
    except ValueError as error:  # a format this installation does not have
        raise ConfigurationError(f"export.formats of {runs[0]}: {error}") from None

    def export(record: dict[str, Any]) -> None:
        if record.get("kept"):
            try:
                exports.write(Trajectory.model_validate(record))
            except ValidationError as error:
                raise ConfigurationError(f"trajectory {record.get('id')}: not a trajectory ({error.errors()[0]['msg']})") from None

    duplicates: Counter[Path] = Counter()
    with exports:
        for name, key in RECORDS:
            if name in REQUIRED or any((run / name).exists() for run in runs):
                on_copied = export if name == files.trajectories.name else None
                duplicates += _merge_records(runs, name, key, staging / name, on_copied)
    stats = _merged_stats(files, runs, configs[0], formats, duplicates)
    files.stats.write_text(json.dumps(stats, indent=2) + "\n")
    (staging / SAVED_CONFIG).parent.mkdir()
    (staging / SAVED_CONFIG).write_text(OmegaConf.to_yaml(OmegaConf.create({**configs[0], "shard": None})))
    return stats


def _merged_stats(
    files: RunFiles, runs: Sequence[Path], config: Mapping[str, Any], formats: list[str], duplicates: Counter[Path]
) -> dict[str, Any]:
    """stats.json of the merge: counts from the merged files; stages, models and timings summed
    over the sources (``wall`` is the longest source's: shards run side by side); ``sources``
    lists each input's own counts."""
    sources = []
    stages: dict[str, Any] = {}
    models: dict[str, Any] = {}
    timings: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    new_trajectories = 0
    for run in runs:
        own = _source_stats(run)
        _sum_into(stages, own.get("stages", {}))
        for name, usage in own.get("models", {}).items():
            _sum_into(models.setdefault(name, {}), {k: v for k, v in usage.items() if k != "cost"})
        _sum_into(timings, {k: v for k, v in own.get("timings_s", {}).items() if k != "wall"})
        timings["wall"] = max(timings.get("wall", 0.0), own.get("timings_s", {}).get("wall", 0.0))
        _sum_into(errors, own.get("runner_errors", {}))
        new_trajectories += own.get("new_trajectories", 0)
        sources.append(
            {
                "run": str(run),
                "settings": own.get("settings", {}),
                "tasks": {k: own.get("tasks", {}).get(k) for k in ("total", "kept")},
                "trajectories": {k: own.get("trajectories", {}).get(k) for k in ("total", "kept")},
                "duplicates_dropped": duplicates[run],
                "models": own.get("models", {}),
                "endpoints": own.get("endpoints", {}),
                "timings_s": own.get("timings_s", {}),
            }
        )
    pricing = config.get("pricing") or {}
    summary = build_stats(
        files,
        stages=stages,
        models=models,
        timings=timings,
        new_trajectories=new_trajectories,
        runner_errors=errors,
        exports=formats,
        settings={**sources[0]["settings"], "shard": None, "merged_from": len(runs)},
        prices=parse_prices(pricing),
        currency=pricing.get("currency", "USD"),
    )
    summary["sources"] = sources
    summary["missing_shards"] = missing_shards([source["settings"] for source in sources])
    return summary


def missing_shards(settings: Sequence[Mapping[str, Any]]) -> list[str]:
    """Shards of a sharded run (same seed and num_tasks) that are not among the merged runs."""
    present: dict[tuple[Any, Any, int], set[int]] = {}
    for run in settings:
        try:
            shard = Shard.parse(run.get("shard"))
        except ConfigurationError:
            continue
        if shard is not None:
            present.setdefault((run.get("seed"), run.get("num_tasks"), shard.count), set()).add(shard.index)
    return [
        f"{index}/{count} (seed={seed}, num_tasks={num_tasks})"
        for (seed, num_tasks, count), indices in present.items()
        for index in range(count)
        if index not in indices
    ]


def main(arguments: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="button merge",
        description="Merge run directories (shards, a multirun's jobs, reruns) into a new run directory OUT.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the merged run directory to create (new or empty)")
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="run directories to merge, first wins on duplicates")
    parser.add_argument(
        "--ignore", action="append", default=[], metavar="KEY", help="a config key that may differ between runs (repeatable)"
    )
    options = parser.parse_args(arguments)
    try:
        stats = merge_runs(options.out, options.runs, options.ignore)
    except ButtonError as error:
        print(f"button merge: error: {error}", file=sys.stderr)
        return 2
    print(
        f"merged {len(options.runs)} runs into {options.out}: {stats['tasks']['total']} tasks, "
        f"{stats['trajectories']['total']} trajectories ({stats['trajectories']['kept']} kept)"
    )
    if stats["missing_shards"]:
        print(f"note: shards not among the inputs, so this is not the whole run: {', '.join(stats['missing_shards'])}")
    unplayed = stats["tasks"]["kept"] - stats["trajectories"]["total"]
    if unplayed > 0:
        print(f"note: {unplayed} kept tasks have no trajectory yet; finish (resume) their runs and merge again")
    return 0
