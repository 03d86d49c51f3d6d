"""The report's figures, drawn with matplotlib's object API (Agg renders the PNGs).

Every figure takes the runs to compare, as (label, metrics) pairs: one run gives a plain
chart, several give panels or grouped bars side by side. ``matplotlib.figure.Figure`` is used
without pyplot, so nothing global (an interactive backend, open figures) is touched.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from button.metrics import RunMetrics, shares

Runs = Sequence[tuple[str, RunMetrics]]

MADE = "#c9d3df"
KEPT = "#2f6db5"
WIDTH = 4.2  # inches per panel


def _grouped_bars(
    axes: Axes, series: Sequence[tuple[str, dict]], keys: list, horizontal: bool = False, annotate: bool = False
) -> None:
    """One bar group per key, one bar per series (run); ``annotate`` writes each bar's value at its end."""
    width = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        positions = [k + (index - (len(series) - 1) / 2) * width for k in range(len(keys))]
        heights = [values.get(key, 0) for key in keys]
        if horizontal:
            bars = axes.barh(positions, heights, height=width, label=label)
        else:
            bars = axes.bar(positions, heights, width=width, label=label)
        if annotate:
            axes.bar_label(bars, fmt="{:g}", padding=3, fontsize="small")
    ticks = list(range(len(keys)))
    if all(isinstance(value, int) for _, values in series for value in values.values()):
        (axes.xaxis if horizontal else axes.yaxis).set_major_locator(MaxNLocator(integer=True))
    if horizontal:
        axes.set_yticks(ticks, [str(key) for key in keys])
        axes.invert_yaxis()
    else:
        axes.set_xticks(ticks, [str(key) for key in keys])


def _wrap(label: str) -> str:
    return textwrap.fill(label, 44)


def _runs_legend(figure: Figure, panels: Sequence[Axes], runs: Runs) -> None:
    """Below the panels, which colour is which run (only when several are compared)."""
    if len(runs) > 1:
        handles, _ = panels[0].get_legend_handles_labels()
        figure.legend(handles, [_wrap(label) for label, _ in runs], loc="outside lower center",
                      ncols=min(len(runs), 3), fontsize="small")


def _shares(counter: Counter, several: bool) -> dict:
    total = sum(counter.values())
    if not several or not total:
        return dict(counter)
    return {key: 100 * value / total for key, value in counter.items()}


def funnel_figure(runs: Runs) -> Figure:
    """From the first stage (seeds or library) to exported trajectories: made vs kept per stage."""
    steps = max(len(metrics.funnel) for _, metrics in runs)
    figure = Figure(figsize=(WIDTH * len(runs) + 1, 0.45 * steps + 1.6), layout="constrained")
    panels = figure.subplots(1, len(runs), squeeze=False)[0]
    for axes, (label, metrics) in zip(panels, runs):
        names = [step.name for step in metrics.funnel]
        axes.barh(names, [step.made for step in metrics.funnel], color=MADE, label="made")
        axes.barh(names, [step.kept for step in metrics.funnel], color=KEPT, height=0.5, label="kept")
        for position, step in enumerate(metrics.funnel):
            axes.annotate(f"{step.kept}/{step.made}", (step.made, position), xytext=(4, 0),
                          textcoords="offset points", va="center", fontsize="small")
        axes.invert_yaxis()
        axes.margins(x=0.2)
        axes.set_title(_wrap(label), fontsize="medium")
        axes.set_xlabel("items")
    figure.legend(*panels[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize="small")
    figure.suptitle("Funnel: made and kept per stage")
    return figure


def rejections_figure(runs: Runs) -> Figure:
    """Rejections by stage, stacked by reason."""
    figure = Figure(figsize=(WIDTH * len(runs) + 2.5, 3.2), layout="constrained")
    panels = figure.subplots(1, len(runs), squeeze=False)[0]
    reasons = sorted({reason for _, metrics in runs for step in metrics.funnel for reason in step.rejected})
    colours = {reason: f"C{index % 10}" for index, reason in enumerate(reasons)}
    for axes, (label, metrics) in zip(panels, runs):
        names = [step.name for step in metrics.funnel]
        left = [0] * len(names)
        for reason in reasons:
            counts = [step.rejected.get(reason, 0) for step in metrics.funnel]
            if any(counts):
                axes.barh(names, counts, left=left, color=colours[reason], label=reason)
                left = [a + b for a, b in zip(left, counts)]
        if not any(left):
            axes.text(0.5, 0.5, "no rejections", ha="center", va="center", transform=axes.transAxes)
            axes.set_xticks([])
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.invert_yaxis()
        axes.set_title(_wrap(label), fontsize="medium")
        axes.set_xlabel("rejected items")
    if reasons:
        figure.legend(*_unique_legend(panels), loc="outside right upper", fontsize="small")
    figure.suptitle("Rejections by stage and reason")
    return figure


def _unique_legend(panels: Sequence[Axes]) -> tuple[list, list[str]]:
    handles: dict[str, object] = {}
    for axes in panels:
        for handle, label in zip(*axes.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    return list(handles.values()), list(handles)


def distributions_figure(runs: Runs) -> Figure:
    """Per kept conversation: turns, calls, parallel turns, sub-tasks, functions offered."""
    several = len(runs) > 1
    names = list(runs[0][1].distributions)
    figure = Figure(figsize=(13, 6.4), layout="constrained")
    panels = figure.subplots(2, 3).flatten()
    for axes, name in zip(panels, names):
        values = sorted({value for _, metrics in runs for value in metrics.distributions[name]})
        series = [(label, _shares(metrics.distributions[name], several)) for label, metrics in runs]
        _grouped_bars(axes, series, values)
        axes.set_title(f"{name} per conversation", fontsize="medium")
        axes.set_ylabel("% of kept" if several else "kept conversations")
    panels[-1].axis("off")
    _runs_legend(figure, panels, runs)
    figure.suptitle("Shape of the kept conversations")
    return figure


def categories_figure(runs: Runs) -> Figure:
    """Kept conversations by composition strategy, and kept tasks by the domains they touch."""
    several = len(runs) > 1
    names = list(runs[0][1].categories)
    keys = {name: sorted({key for _, metrics in runs for key in metrics.categories[name]}) for name in names}
    tallest = max(len(found) for found in keys.values())
    figure = Figure(figsize=(12, 0.32 * tallest * max(1, len(runs) / 2) + 1.8), layout="constrained")
    panels = figure.subplots(1, len(names), squeeze=False)[0]
    for axes, name in zip(panels, names):
        series = [(label, _shares(metrics.categories[name], several)) for label, metrics in runs]
        _grouped_bars(axes, series, keys[name], horizontal=True)
        axes.set_title(f"by {name}", fontsize="medium")
        axes.set_xlabel("% of kept" if several else "kept")
    _runs_legend(figure, panels, runs)
    figure.suptitle("Strategies and domains")
    return figure


def quality_figure(runs: Runs) -> Figure:
    """How often each verification check passed; the run's quality figures when stats.json has them."""
    with_quality = any(shares(metrics.quality) for _, metrics in runs)
    checks = sorted({name for _, metrics in runs for name in metrics.check_pass_rates})
    quality = sorted({name for _, metrics in runs for name in shares(metrics.quality)})
    rows = max(len(checks), len(quality), 1)
    figure = Figure(figsize=(12 if with_quality or len(runs) > 1 else 7, 0.3 * rows * max(1, len(runs) / 2) + 1.8), layout="constrained")
    panels = figure.subplots(1, 2 if with_quality else 1, squeeze=False)[0]
    series = [(label, {k: 100 * v for k, v in metrics.check_pass_rates.items()}) for label, metrics in runs]
    _grouped_bars(panels[0], series, checks, horizontal=True)
    panels[0].set_xlim(0, 100)
    panels[0].set_xlabel("% of conversations passing")
    panels[0].set_title("verification checks", fontsize="medium")
    if with_quality:
        _grouped_bars(panels[1], [(label, shares(metrics.quality)) for label, metrics in runs], quality, horizontal=True)
        panels[1].set_xlim(0, 100)
        panels[1].set_xlabel("%")
        panels[1].set_title("quality figures (stats.json)", fontsize="medium")
    _runs_legend(figure, panels, runs)
    figure.suptitle("Quality")
    return figure


MODEL_PANELS = (
    ("tokens", lambda usage: usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)),
    ("requests", lambda usage: usage.get("requests", 0)),
    ("retries", lambda usage: usage.get("retries", 0)),
    ("cost", lambda usage: usage.get("cost") or 0),
)


def models_figure(runs: Runs) -> Figure:
    """Tokens, requests, retries and estimated cost per model (cost 0 where the price is unknown)."""
    models = sorted({name for _, metrics in runs for name in metrics.models})
    unpriced = sorted({name for _, metrics in runs for name, usage in metrics.models.items() if usage.get("cost") is None})
    figure = Figure(figsize=(13, 0.4 * len(models) * len(runs) + 2), layout="constrained")
    panels = figure.subplots(1, len(MODEL_PANELS))
    for axes, (title, value) in zip(panels, MODEL_PANELS):
        series = [(label, {name: value(usage) for name, usage in metrics.models.items()}) for label, metrics in runs]
        _grouped_bars(axes, series, models, horizontal=True, annotate=True)
        axes.set_xlim(left=0)
        axes.margins(x=0.25)
        axes.set_title(title if title != "cost" or not unpriced else f"cost (no price: {', '.join(unpriced)})",
                       fontsize="medium")
        if axes is not panels[0]:
            axes.set_yticks([])
    _runs_legend(figure, panels, runs)
    figure.suptitle("Models: tokens, requests, retries and estimated cost")
    return figure
