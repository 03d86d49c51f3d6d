"""``button report RUN_DIR [RUN_DIR...]``: report.html and PNG figures for one run or a comparison.

report.html is one self-contained file (figures embedded as base64 PNG, styles inline, no
script, nothing fetched), so it opens offline and can be mailed around; the same figures are
written as PNG files next to it under ``figures/``. A Hydra sweep directory stands for all its
job directories.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure
from omegaconf import OmegaConf

from button import figures
from button.metrics import RunMetrics, measure
from button.run_data import RunData, RunDirectoryError, read_run
from environment.transcript import transcript
from environment.trajectory import Trajectory

REPORT = "report.html"
FIGURES = "figures"

#: (file stem, caption, figure function, whether it applies to these runs)
FIGURE_SPECS: tuple[tuple[str, str, Callable[[figures.Runs], Figure], Callable[[figures.Runs], bool]], ...] = (
    ("funnel", "From the first stage to exported trajectories: what each stage made and kept.",
     figures.funnel_figure, lambda runs: True),
    ("rejections", "Rejections by stage and reason.", figures.rejections_figure, lambda runs: True),
    ("distributions", "Shape of the kept conversations.", figures.distributions_figure, lambda runs: True),
    ("categories", "Kept conversations by strategy; kept tasks by the domains their functions come from.",
     figures.categories_figure, lambda runs: True),
    ("quality", "Verification checks passed, and the quality figures of stats.json where present.",
     figures.quality_figure, lambda runs: any(m.check_pass_rates or m.quality for _, m in runs)),
    ("models", "Tokens, requests, retries and estimated cost per model.",
     figures.models_figure, lambda runs: any(m.models for _, m in runs)),
)


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="button report",
        description="Write report.html (self-contained) and PNG figures for a run directory, or a "
        "side-by-side comparison of several (a Hydra sweep directory stands for all its jobs).",
    )
    parse.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR")
    parse.add_argument("--out", type=Path, help="where to write (default: the first RUN_DIR, or the sweep directory)")
    parse.add_argument("--samples", type=int, default=3, help="sample conversations per run (default 3)")
    return parse


def is_run_dir(path: Path) -> bool:
    return (path / "trajectories.jsonl").is_file()


def expand(paths: Sequence[Path]) -> list[Path]:
    """Run directories; a directory holding none itself but job directories stands for those."""
    found: list[Path] = []
    for path in paths:
        if is_run_dir(path) or not path.is_dir():
            found.append(path)
            continue
        jobs = sorted((child for child in path.iterdir() if is_run_dir(child)), key=_job_order)
        if not jobs:
            raise RunDirectoryError(f"{path}: no trajectories.jsonl here nor in its subdirectories")
        found.extend(jobs)
    return found


def _job_order(path: Path) -> tuple[int, str]:
    return (int(path.name), "") if path.name.isdigit() else (1 << 30, path.name)


def _overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.exists():
        return []
    return [str(item) for item in OmegaConf.to_container(OmegaConf.load(path)) if not str(item).startswith("hydra.")]


def labels(run_dirs: Sequence[Path]) -> list[str]:
    """Name each run by the overrides that set it apart (a sweep's swept values), else its folder."""
    overrides = [_overrides(path) for path in run_dirs]
    common = set.intersection(*(set(items) for items in overrides)) if len(run_dirs) > 1 else set()
    named = [" ".join(item for item in items if item not in common) or path.name for path, items in zip(run_dirs, overrides)]
    if len(set(named)) < len(named):
        named = [f"{path.name}: {name}" if name != path.name else name for path, name in zip(run_dirs, named)]
    if len(set(named)) < len(named):
        named = [str(path) for path in run_dirs]
    return named


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _html_style(kind: str, text: str) -> str:
    return f'<span class="{kind}">{html.escape(text)}</span>'


def _sample(trajectory: Trajectory) -> str:
    verdict = "kept" if trajectory.kept else f"rejected: {trajectory.reject_reason}"
    tools = ", ".join(spec.name for spec in trajectory.functions) or "none"
    return (
        f"<details><summary>{html.escape(trajectory.id)} · {html.escape(trajectory.strategy or '-')} · "
        f"{html.escape(verdict)}</summary><p>tools: {html.escape(tools)}</p>"
        f"<pre>{transcript(trajectory, _html_style)}</pre></details>"
    )


def samples(run: RunData, count: int) -> list[Trajectory]:
    """Mostly kept conversations, plus one rejected one when the run has any."""
    rejected = [t for t in run.trajectories if not t.kept][:1] if count > 1 else []
    kept = [t for t in run.trajectories if t.kept][: count - len(rejected)]
    return kept + rejected


def _ratio(part: dict) -> str:
    total = part.get("total", 0)
    return f"{part.get('kept', 0)}/{total} ({100 * part.get('kept', 0) / total:.0f}%)" if total else "0/0"


def _overview_row(label: str, run: RunData) -> str:
    stats = run.stats
    settings = stats.get("settings", {})
    cost = (stats.get("cost") or {}).get("total")
    trajectories = {"total": len(run.trajectories), "kept": sum(t.kept for t in run.trajectories)}
    tasks = {"total": len(run.tasks), "kept": sum(t.kept for t in run.tasks)}
    cells = [
        label,
        str(run.root),
        str(settings.get("model", "-")),
        _ratio(tasks),
        _ratio(trajectories),
        f"{(stats.get('timings_s') or {}).get('wall', 0):.1f}" if stats else "-",
        "-" if cost is None else f"{cost:.4f} {stats['cost'].get('currency', '')}",
    ]
    return "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"


def _number(value: int | float | None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:.1f}%" if isinstance(value, float) and 0 <= value <= 1 else f"{value:g}"


def quality_table(named_metrics: Sequence[tuple[str, RunMetrics]]) -> str:
    """Every number of stats.json's ``quality`` key, one row each, one column per run."""
    names = sorted({name for _, metrics in named_metrics for name in metrics.quality})
    if not names:
        return ""
    head = "".join(f"<th>{html.escape(label)}</th>" for label, _ in named_metrics)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>"
        + "".join(f"<td>{_number(metrics.quality.get(name))}</td>" for _, metrics in named_metrics)
        + "</tr>"
        for name in names
    )
    return f"<h2>Quality figures</h2><table><tr><th>figure</th>{head}</tr>{rows}</table>"


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1300px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: .3em .6em; text-align: left; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: .8em; white-space: pre-wrap; font-size: 90%; }
.user { color: #0b7285; font-weight: bold; } .assistant { color: #862e9c; font-weight: bold; }
.tool { color: #a35d00; font-weight: bold; } .thought { color: #777; font-style: italic; }
.call { color: #8a6d00; } .result { color: #2b8a3e; } .error, .check, .rejected { color: #c92a2a; }
.final { font-weight: bold; } .kept { color: #2b8a3e; font-weight: bold; }
"""


def render_html(
    named_runs: Sequence[tuple[str, RunData]],
    named_metrics: Sequence[tuple[str, RunMetrics]],
    images: Sequence[tuple[str, str, bytes]],
    sample_count: int,
) -> str:
    title = "button report: " + ", ".join(label for label, _ in named_runs)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Overview</h2><table><tr><th>run</th><th>directory</th><th>model</th><th>tasks kept</th>"
        "<th>trajectories kept</th><th>wall s</th><th>estimated cost</th></tr>",
        *(_overview_row(label, run) for label, run in named_runs),
        "</table>",
        quality_table(named_metrics),
    ]
    for stem, caption, png in images:
        encoded = base64.b64encode(png).decode("ascii")
        parts.append(
            f'<figure id="{stem}"><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{html.escape(caption)} ({FIGURES}/{stem}.png)</figcaption></figure>"
        )
    if sample_count > 0:
        parts.append("<h2>Sample conversations</h2>")
        for label, run in named_runs:
            parts.append(f"<h3>{html.escape(label)}</h3>")
            parts.extend(_sample(trajectory) for trajectory in samples(run, sample_count))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(run_dirs: Sequence[Path], out: Path | None = None, sample_count: int = 3) -> Path:
    """Write report.html and figures/*.png; returns the path of report.html."""
    expanded = expand(run_dirs)
    runs = [read_run(path) for path in expanded]
    named_runs = list(zip(labels(expanded), runs))
    metrics: list[tuple[str, RunMetrics]] = [(label, measure(run)) for label, run in named_runs]
    out = out or run_dirs[0]
    (out / FIGURES).mkdir(parents=True, exist_ok=True)
    images = []
    for stem, caption, draw, applies in FIGURE_SPECS:
        if applies(metrics):
            png = _png(draw(metrics))
            (out / FIGURES / f"{stem}.png").write_bytes(png)
            images.append((stem, caption, png))
        else:
            (out / FIGURES / f"{stem}.png").unlink(missing_ok=True)  # left by an earlier report
    report = out / REPORT
    report.write_text(render_html(named_runs, metrics, images, sample_count), encoding="utf-8")
    return report


def main(arguments: Sequence[str]) -> int:
    options = parser().parse_args(arguments)
    if options.samples < 0:
        raise RunDirectoryError(f"--samples {options.samples}: must be 0 or more")
    report = write_report(options.run_dirs, options.out, options.samples)
    print(f"report: {report}")
    print(f"figures: {report.parent / FIGURES}")
    return 0
