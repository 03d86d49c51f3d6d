"""Does the pipeline survive the known misbehaviours of real model servers? One table answers.

For each behaviour of tests/misbehaviour.py, played in ``--rate`` of all answers (every role and
stage), and each call protocol, it runs ``button model=openai`` against the fake endpoint
(tests/fake_endpoint.py, in this process; the run is a child process) and reports: the exit
code, trajectories kept of made, the kept share against the run without misbehaviour, the top
rejection reasons, whether every export passes the strict readers
(``python -m environment.export RUN_DIR``) and what an audit of the kept records found
(reasoning or call markup in any text, undeclared argument keys, empty or duplicate call ids).
``--full`` adds runs with reasoning blocks and fenced JSON in every answer, where the bottom-up
phase must still make tasks.

    python -m benchmarks.misbehaviour                 # about 5 minutes on 2 cores
    python -m benchmarks.misbehaviour --behaviour fences --protocol tags --tasks 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the fake endpoint and its players live with the tests

from fake_endpoint import LoopbackChatServer  # noqa: E402
from misbehaviour import BEHAVIOURS, Misbehave  # noqa: E402
from scale_responders import PipelineResponder  # noqa: E402

MARKUP = ("<think", "</think>", "<tool_call", "</tool_call>", "[TOOL_CALLS]", "<|python_tag|>")
PROTOCOLS = ("native", "tags")


def audit(trajectory: dict[str, Any]) -> list[str]:
    """What a trainer must never find in a kept record."""
    problems = []
    specs = {spec["name"]: spec for spec in trajectory["functions"]}
    seen_ids: set[str] = set()
    for message in trajectory["messages"]:
        texts = [message.get("content") or "", message.get("thought") or ""]
        texts += [json.dumps(call["arguments"]) for call in message.get("tool_calls") or []]
        if any(mark in text for text in texts for mark in MARKUP):
            problems.append("markup")
        for call in message.get("tool_calls") or []:
            if not call["id"] or call["id"] in seen_ids:
                problems.append("bad_id")
            seen_ids.add(call["id"])
            declared = (specs.get(call["name"], {}).get("parameters") or {}).get("properties") or {}
            if set(call["arguments"]) - set(declared):
                problems.append("undeclared_key")
    return problems


def run(server: LoopbackChatServer, behaviour: str | None, rate: float, protocol: str, tasks: int, work: Path) -> dict[str, Any]:
    server.responder = Misbehave(PipelineResponder(), behaviour, rate) if behaviour else PipelineResponder()
    run_dir = work / f"{behaviour or 'none'}-{rate:g}-{protocol}"
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "button", "model=openai", f"model.base_url={server.base_url}", "model.name=fake",
         "model.api_key_env=null", "model.cache_dir=null", f"environment.protocol={protocol}",
         f"num_tasks={tasks}", f"hydra.run.dir={run_dir}"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seconds = time.perf_counter() - started
    trajectories = _records(run_dir / "trajectories.jsonl")
    made_tasks = sum(record.get("kept", False) for record in _records(run_dir / "tasks.jsonl"))
    kept = [t for t in trajectories if t["kept"]]
    exports = subprocess.run([sys.executable, "-m", "environment.export", str(run_dir)], cwd=REPO, capture_output=True, text=True)
    return {
        "behaviour": behaviour or "(none)",
        "rate": rate,
        "protocol": protocol,
        "exit": completed.returncode,
        "traceback": "Traceback" in completed.stderr,
        "tasks": made_tasks,
        "made": len(trajectories),
        "kept": len(kept),
        "reasons": Counter(t["reject_reason"] for t in trajectories if not t["kept"]).most_common(3),
        "audit": sorted(set(problem for t in kept for problem in audit(t))),
        "exports_ok": exports.returncode == 0,
        "played": sum(getattr(server.responder, "played", Counter()).values()),
        "seconds": round(seconds, 1),
    }


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict[str, Any]]) -> str:
    baseline = {row["protocol"]: row["kept"] for row in rows if row["behaviour"] == "(none)"}
    lines = ["| behaviour | rate | protocol | exit | tasks | kept/made | share of baseline | top reasons | audit | exports | played |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        base = baseline.get(row["protocol"]) or 0
        share = f"{row['kept'] / base:.0%}" if base else "-"
        reasons = ", ".join(f"{reason} {count}" for reason, count in row["reasons"]) or "-"
        lines.append(
            f"| {row['behaviour']} | {row['rate']:g} | {row['protocol']} | {row['exit']}{' TRACEBACK' if row['traceback'] else ''} "
            f"| {row['tasks']} | {row['kept']}/{row['made']} | {share} | {reasons} | {', '.join(row['audit']) or 'clean'} "
            f"| {'pass' if row['exports_ok'] else 'FAIL'} | {row['played']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--behaviour", action="append", choices=sorted(BEHAVIOURS), help="repeatable; default: all")
    parser.add_argument("--protocol", action="append", choices=PROTOCOLS, help="repeatable; default: both")
    parser.add_argument("--rate", type=float, default=0.3, help="share of answers that misbehave")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--full", action="store_true", help="also reasoning and fences in every answer")
    parser.add_argument("--work", type=Path, help="keep the run directories here")
    args = parser.parse_args(argv)
    behaviours = args.behaviour or list(BEHAVIOURS)
    protocols = args.protocol or list(PROTOCOLS)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch, LoopbackChatServer(PipelineResponder(), record=False) as server:
        work = args.work or Path(scratch)
        for protocol in protocols:
            rows.append(run(server, None, 0.0, protocol, args.tasks, work))
            for behaviour in behaviours:
                rows.append(run(server, behaviour, args.rate, protocol, args.tasks, work))
                print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
        if args.full:
            for behaviour in ("reasoning", "fences"):
                rows.append(run(server, behaviour, 1.0, protocols[0], args.tasks, work))
    print(table(rows))
    return 0 if all(row["exit"] == 0 and row["exports_ok"] and not row["audit"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
