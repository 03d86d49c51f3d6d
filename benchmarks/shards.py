"""Shards on one machine: N processes under Hydra's joblib launcher against one process, offline.

    python -m benchmarks.shards --tasks 4000 --shards 2

Runs ``button num_tasks=T`` in one process, then the same settings as
``button -m hydra/launcher=joblib hydra.launcher.n_jobs=N shard=0/N,...`` and ``button merge``
of the N run directories. Reports wall seconds and trajectories per second of each (the sharded
figure counts the launch, every shard and the merge), the speed-up, and whether the merge holds
the same task and trajectory records as the single run. The offline pipeline is CPU-bound, so
the speed-up is what extra cores buy; the machine's other load shows up in it directly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import ChildRun, run_child


def _lines(path: Path) -> set[str]:
    return set(path.read_text().splitlines())


def _checked(arguments: list[str]) -> ChildRun:
    child = run_child(arguments, timeout=1800)
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed ({child.returncode}):\n{child.stderr[-2000:]}")
    return child


def measure(tasks: int, shards: int, work: Path) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    common = [f"num_tasks={tasks}", "runner.progress=false"]
    single = work / "single"
    single_run = _checked(["-m", "button", f"hydra.run.dir={single}", *common])
    sweep = work / "sweep"
    shard_list = ",".join(f"{index}/{shards}" for index in range(shards))
    launch = ["-m", "button", "-m", "hydra/launcher=joblib", f"hydra.launcher.n_jobs={shards}"]
    sharded_run = _checked([*launch, f"hydra.sweep.dir={sweep}", f"shard={shard_list}", *common])
    shard_dirs = [sweep / str(index) for index in range(shards)]
    merged = work / "merged"
    merge_run = _checked(["-m", "button", "merge", str(merged), *map(str, shard_dirs)])
    trajectories = len((single / "trajectories.jsonl").read_text().splitlines())
    single_wall, sharded_wall, merge_wall = single_run.wall, sharded_run.wall, merge_run.wall
    total = sharded_wall + merge_wall
    return {
        "tasks": tasks,
        "shards": shards,
        "cores": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "trajectories": trajectories,
        "single_wall_s": round(single_wall, 2),
        "single_cpu_s": round(single_run.cpu, 2),
        "single_trajectories_per_s": round(trajectories / single_wall, 1),
        "sharded_wall_s": round(sharded_wall, 2),
        "sharded_cpu_s": round(sharded_run.cpu, 2),  # the launcher and the shard processes it reaped
        "shard_walls_s": [json.loads((d / "stats.json").read_text())["timings_s"]["wall"] for d in shard_dirs],
        "merge_wall_s": round(merge_wall, 2),
        "sharded_trajectories_per_s": round(trajectories / total, 1),
        "speedup": round(single_wall / total, 2),
        "speedup_without_merge": round(single_wall / sharded_wall, 2),
        "merge_equals_single_run": all(
            _lines(merged / name) == _lines(single / name) for name in ("tasks.jsonl", "trajectories.jsonl")
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shards", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=4000, help="num_tasks of the run (default 4000)")
    parser.add_argument("--shards", type=int, default=2, help="processes, one shard each (default 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="button-shards-") as work:
        result = measure(args.tasks, args.shards, Path(work))
    print(json.dumps(result, indent=2))
    return 0 if result["merge_equals_single_run"] else 1


if __name__ == "__main__":
    sys.exit(main())
