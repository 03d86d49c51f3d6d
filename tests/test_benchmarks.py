"""The scale benchmark, run the way its README says but tiny, so it cannot rot unnoticed.

It asserts that every scenario produces its numbers and that they are coherent (a utilization
is a share, the endpoint never saw more requests in flight than the runner may send), not
what they are: those depend on the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SCENARIOS = ("offline", "offline-scale", "utilization", "cpu", "faults", "pool")


def test_every_scenario_reports_its_numbers(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable, "-m", "benchmarks.scale",
            "--tasks", "6", "--concurrency", "3", "--latency", "0.01", "--jitter", "0.005",
            "--out", str(tmp_path / "results"), "--work", str(tmp_path / "runs"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr
    [path] = (tmp_path / "results").glob("scale-*.json")
    document = json.loads(path.read_text())
    results = document["results"]
    assert sorted(results) == sorted(SCENARIOS)
    assert "utilization" in completed.stdout and "ratio_to_bare_client" in completed.stdout

    offline = results["offline"]
    assert offline["trajectories"] == 6 and offline["messages"] >= 6 * 3
    assert offline["cpu_ms_per_message"] > 0 and offline["trajectories_per_s"] > 0
    assert results["offline-scale"]["peak_rss_mb"] > 10

    for name in ("utilization", "cpu"):
        run = results[name]
        assert run["trajectories"] == 6
        assert run["requests"] >= 6 * 3  # user, assistant and tool at the least
        assert 0 < run["max_in_flight"] <= 3
        assert 0 < run["utilization"] <= run["active_window_utilization"] <= 1.0
        assert run["requests_per_s"] > 0 and run["cpu_ms_per_request"] > 0
    assert results["cpu"]["bare_client"]["requests_per_s"] > 0
    assert results["cpu"]["ratio_to_bare_client"] > 0
    assert results["cpu"]["bare_client"]["same_bodies"]["requests_per_s"] > 0

    faults = results["faults"]
    assert faults["exit_code"] == 0 and faults["trajectories"] == 6
    assert faults["unexplained_rejections"] == 0
    assert set(faults["export_records_with_problems"]) == {"button", "openai", "hf", "sharegpt"}

    pool = results["pool"]
    assert all(pool["pool_requests_by_replica"]) and pool["pool_ratio"] > 0  # both replicas served

    assert {check["name"] for check in document["checks"]} >= {
        "endpoint utilization",
        "offline CPU ms per agent message",
        "CPU-bound req/s / bare AsyncOpenAI req/s",
    }
