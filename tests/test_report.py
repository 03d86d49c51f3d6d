"""`button report`: report.html and PNG figures for an offline run, an LLM run over loopback and a
sweep; the page opens in a real headless browser, offline, with every figure drawn and no error."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_endpoint import LoopbackChatServer
from button.metrics import measure, shares
from button.run_data import read_run
from conftest import read_jsonl, run_button
from headless_browser import chromium, visit
from scale_responders import PipelineResponder

OFFLINE_FIGURES = {"funnel", "rejections", "distributions", "categories", "quality"}
IMAGES_DRAWN = "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
needs_browser = pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"), reason="chromium is not installed (.ci/run installs it)"
)


@pytest.fixture
def offline_run(tight_offline_run: Path) -> Path:
    return tight_offline_run


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("report") / "llm"
    with LoopbackChatServer(PipelineResponder()) as server:
        result = run_button(
            "model=openai", f"model.base_url={server.base_url}", "model.name=loopback-llm",
            f"model.cache_dir={directory.parent / 'cache'}", "num_tasks=8", f"hydra.run.dir={directory}",
            env={"OPENAI_API_KEY": "sk-loopback"},
        )
    assert result.returncode == 0, result.stderr
    yield directory


def _report(*arguments: str) -> Path:
    result = run_button("report", *arguments)
    assert result.returncode == 0, result.stderr
    found = re.search(r"^report: (.+)$", result.stdout, re.MULTILINE)
    assert found is not None, result.stdout
    return Path(found.group(1))


def _embedded_pngs(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def _check_self_contained(report: Path, figures: set[str]) -> str:
    page = report.read_text()
    written = {path.stem: path.read_bytes() for path in (report.parent / "figures").glob("*.png")}
    assert set(written) == figures
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in written.values())
    assert sorted(_embedded_pngs(page)) == sorted(written.values())  # the page embeds the same figures
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing to fetch: it opens offline
    return page


def _check_in_browser(report: Path, figures: int) -> None:
    seen = visit(report, IMAGES_DRAWN)
    assert seen.errors == []
    assert len(seen.value) == figures
    assert all(complete and width > 100 and height > 100 for complete, width, height in seen.value)
    assert all(url.startswith(("file:", "data:")) for url in seen.requested), seen.requested


def test_offline_report_is_self_contained_with_samples(offline_run: Path) -> None:
    report = _report(str(offline_run))
    assert report == offline_run / "report.html"
    page = _check_self_contained(report, OFFLINE_FIGURES)
    trajectories = read_jsonl(offline_run / "trajectories.jsonl")
    kept = [t for t in trajectories if t["kept"]]
    rejected = [t for t in trajectories if not t["kept"]]
    assert kept[0]["id"] in page and rejected[0]["id"] in page  # samples: kept ones and a rejected one
    assert f"rejected: {rejected[0]['reject_reason']}" in page


@needs_browser
def test_offline_report_renders_in_a_browser(offline_run: Path) -> None:
    report = _report(str(offline_run))
    _check_in_browser(report, len(OFFLINE_FIGURES))


@needs_browser
def test_llm_report_adds_models_and_renders(llm_run: Path) -> None:
    report = _report(str(llm_run))
    page = _check_self_contained(report, OFFLINE_FIGURES | {"models"})
    assert "loopback-llm" in page
    _check_in_browser(report, len(OFFLINE_FIGURES) + 1)


def test_metrics_count_what_the_records_hold(offline_run: Path) -> None:
    metrics = measure(read_run(offline_run))
    records = read_jsonl(offline_run / "trajectories.jsonl")
    kept = [r for r in records if r["kept"]]
    calls = sorted(sum(len(m["tool_calls"]) for m in r["messages"]) for r in kept)
    assert sorted(metrics.distributions["function calls"].elements()) == calls
    converse = next(step for step in metrics.funnel if step.name == "converse")
    assert (converse.made, converse.kept) == (len(records), len(kept))
    assert sum(converse.rejected.values()) == len(records) - len(kept)
    assert [step.name for step in metrics.funnel] == ["compose", "converse", "export"]
    final = sum(next(c["passed"] for c in r["checks"] if c["name"] == "final_answer") for r in records)
    assert metrics.check_pass_rates["final_answer"] == final / len(records)
    stats = json.loads((offline_run / "stats.json").read_text())
    assert metrics.quality["grounded_calls.share"] == stats["quality"]["grounded_calls"]["share"]
    assert metrics.quality["answers.final"] == stats["quality"]["answers"]["final"]


def test_a_run_without_quality_figures_is_tolerated(offline_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(offline_run, copy)
    stats = json.loads((copy / "stats.json").read_text())
    del stats["quality"]
    (copy / "stats.json").write_text(json.dumps(stats))
    assert measure(read_run(copy)).quality == {}


def test_quality_figures_from_stats_json_are_read(offline_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(offline_run, copy)
    stats = json.loads((copy / "stats.json").read_text())
    stats["quality"] = {
        "grounded_calls": {"calls": 30, "grounded": 29, "share": 0.9667},
        "answers": {"checked": 0, "correct_share": None},
        "distinct_4grams": {"user": 0.41, "assistant": 0.25},
        "note": "text",
    }
    (copy / "stats.json").write_text(json.dumps(stats))
    quality = measure(read_run(copy)).quality
    assert quality == {
        "grounded_calls.calls": 30, "grounded_calls.grounded": 29, "grounded_calls.share": 0.9667,
        "answers.checked": 0, "distinct_4grams.user": 0.41, "distinct_4grams.assistant": 0.25,
    }
    assert shares(quality) == {"grounded_calls.share": 96.67, "distinct_4grams.user": 41.0, "distinct_4grams.assistant": 25.0}
    page = _report(str(copy)).read_text()
    assert "<td>grounded_calls.share</td><td>96.7%</td>" in page and "<td>grounded_calls.calls</td><td>30</td>" in page


def test_sweep_directory_is_compared_side_by_side(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_button("-m", "composition=sequential,parallel_then_sequential", "num_tasks=4", f"hydra.sweep.dir={sweep}")
    assert result.returncode == 0, result.stderr
    report = _report(str(sweep))
    assert report == sweep / "report.html"
    page = _check_self_contained(report, OFFLINE_FIGURES)
    assert "<td>composition=sequential</td>" in page and "<td>composition=parallel_then_sequential</td>" in page
    assert "num_tasks=4</td>" not in page  # common to both jobs, so it names neither
    out = tmp_path / "comparison"
    assert _report(str(sweep / "0"), str(sweep / "1"), "--out", str(out)) == out / "report.html"


def test_bad_run_directory_is_one_line(tmp_path: Path) -> None:
    result = run_button("report", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"button report: error: {tmp_path}: no trajectories.jsonl here nor in its subdirectories"


@needs_browser
def test_the_browser_check_sees_a_broken_page(tmp_path: Path) -> None:
    """The checks above can fail: a broken image and a script error are seen."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><img src="data:image/png;base64,AAAA">'
                    '<script>console.error("drawn wrong"); missing_function();</script></body></html>')
    seen = visit(page, IMAGES_DRAWN)
    assert len(seen.errors) == 2 and "drawn wrong" in seen.errors[0] and "missing_function" in seen.errors[1]
    assert seen.value == [[True, 0, 0]]


def test_runs_are_named_by_what_sets_them_apart(tmp_path: Path) -> None:
    from button.report import labels

    def run(path: Path, *overrides: str) -> Path:
        (path / ".hydra").mkdir(parents=True)
        (path / ".hydra" / "overrides.yaml").write_text("".join(f"- {item}\n" for item in overrides))
        return path

    a = run(tmp_path / "a", "num_tasks=10", "seed=0", "hydra.run.dir=x")
    b = run(tmp_path / "b", "num_tasks=10", "seed=1", "hydra.run.dir=y")
    assert labels([a, b]) == ["seed=0", "seed=1"]
    assert labels([a]) == ["num_tasks=10 seed=0"]
    same = [run(tmp_path / "x" / "run", "seed=2"), run(tmp_path / "y" / "run", "seed=2")]
    assert labels(same) == [str(path) for path in same]
