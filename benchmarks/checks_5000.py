"""Run the offline pipeline on 5,000 tasks and count what each verification check rejected.

    python -m benchmarks.checks_5000 [--tasks 5000] [--run-dir DIR] [-- extra Hydra overrides]

The offline oracle plays every task's gold plan, so every check (in particular the checks of
truth: grounded_arguments, covered_tasks, grounded_answer, no_plan_leak) must pass on all of
its trajectories; a failure is a false rejection by a check, or a real defect of the oracle.
It runs twice, with parallel calls on and off, and exits non-zero when any check failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from button.api import run_pipeline
from button.closing import quality_line
from composition.jsonl import read_records


def failures(run_dir: Path) -> tuple[int, int, Counter[str], dict[str, str]]:
    """Trajectories read, those passing every check, failures per check name, one example each."""
    total = passing = 0
    failed: Counter[str] = Counter()
    example: dict[str, str] = {}
    for record in read_records(run_dir / "trajectories.jsonl"):
        total += 1
        passing += all(check["passed"] for check in record["checks"])
        for check in record["checks"]:
            if not check["passed"]:
                failed[check["name"]] += 1
                example.setdefault(check["name"], f"{record['task_id']}: {check['detail']}")
    return total, passing, failed, example


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--run-dir", type=Path, default=None, help="default: a fresh temporary directory")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    options = parser.parse_args()
    root = options.run_dir or Path(tempfile.mkdtemp(prefix="checks_5000_"))
    bad = 0
    for parallel in ("true", "false"):
        run_dir = root / f"parallel_{parallel}"
        started = time.perf_counter()
        overrides = [f"num_tasks={options.tasks}", f"environment.parallel_calls={parallel}", *options.overrides]
        stats = run_pipeline(run_dir, overrides)
        total, passing, failed, example = failures(run_dir)
        seconds = time.perf_counter() - started
        print(
            f"parallel_calls={parallel}: {total} trajectories, {passing} passing every check "
            f"({seconds:.0f} s, {run_dir})"
        )
        print(f"  {quality_line(stats['quality'])}")
        for name, count in failed.most_common():
            print(f"  {name}: {count} failed, e.g. {example[name]}")
        bad += sum(failed.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
