"""``python -m environment.export RUN_DIR``: read a run's exports strictly and print a table.

Exits 0 when every requested format's file exists and every record passes; otherwise 1,
after printing ``file:line: problem`` for the first problems found (the first one first).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from environment.export import available_exporters, get_exporter
from environment.export.validate import CHECKERS, Report, check_export_file

SHOWN_PROBLEMS = 10


def _export_dir(run_dir: Path) -> Path:
    """The run directory's ``export/``, or the directory itself when it already is one."""
    nested = run_dir / "export"
    return nested if nested.is_dir() else run_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m environment.export", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path, help="a run directory (holding export/) or an export directory")
    parser.add_argument(
        "--formats", nargs="+", default=available_exporters(), metavar="NAME",
        help=f"formats to check (default: all of {', '.join(available_exporters())})",
    )
    args = parser.parse_args(argv)
    if not args.run_dir.is_dir():
        print(f"error: {args.run_dir} is not a directory", file=sys.stderr)
        return 2
    unreadable = [name for name in args.formats if name not in CHECKERS]
    if unreadable:
        print(f"error: no strict reader for {unreadable}; readable formats: {', '.join(sorted(CHECKERS))}", file=sys.stderr)
        return 2
    exporters = [get_exporter(name) for name in args.formats]
    directory = _export_dir(args.run_dir)
    reports: list[Report] = []
    rows = [("format", "file", "records", "problems")]
    for exporter in exporters:
        path = directory / exporter.filename
        report = (
            check_export_file(path, exporter.name)
            if path.is_file()
            else Report(path=str(path), format=exporter.name, problems=[f"{path}: missing"])
        )
        reports.append(report)
        rows.append((exporter.name, str(path), str(report.records), str(len(report.problems))))
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems[:SHOWN_PROBLEMS]:
        print(problem, file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"... and {len(problems) - SHOWN_PROBLEMS} more problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
