"""Measure how well the pipeline keeps an endpoint busy, what it costs in CPU, and how it survives faults.

    python -m benchmarks.scale --scenario all

Scenarios (each may be named with --scenario, repeated; ``all`` runs every one):

- ``offline``: the offline pipeline in this process; trajectories per second and framework CPU
  milliseconds per agent message (process CPU time / messages in the trajectories).
- ``offline-scale``: ``button`` in a child process on the offline defaults; wall time,
  trajectories per second and the child's own peak RSS (os.wait4).
- ``utilization``: the LLM roles (composition/source=library, so tasks come from the offline
  library and only the conversations use the endpoint) against a simulated endpoint with
  latency and jitter; time-weighted mean requests in flight / runner.concurrency over the
  whole run, and requests per second against the ideal concurrency / mean latency.
- ``cpu``: the same at 20 ms latency and runner.concurrency=128, where the client's CPU is
  the limit; the run's requests per second against the bare openai AsyncOpenAI client
  hammering the same endpoint with as many concurrent requests, measured in the same process:
  with a minimal two-message body (the headline ratio), and replaying a sample of the run's
  own request bodies (the same payloads, so the gap left is the framework's own work).
- ``pool``: the ``utilization`` run against one endpoint, then against a pool of two
  (``model.base_url=[a,b]``) at the same ``runner.concurrency`` per endpoint; requests per
  second of each, their ratio (ideally 2), and how the pool's requests split between replicas.
- ``faults``: ``button`` in a child process against an endpoint that answers 10% 429
  (Retry-After: 0), 5% 500 and 8% garbage; exit code, tracebacks on stderr, rejections
  without a reason, and every export file read strictly.

Numbers print as a table; the full measurements go to benchmarks/results/<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.endpoint import EndpointProcess, EndpointSettings, InFlightSampler
from benchmarks.measure import export_problems, read_run, run_child
from benchmarks.roles import Faults

KEY_ENV = "BUTTON_BENCHMARK_API_KEY"
RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Scenario:
    """Defaults of one scenario; command-line flags replace them."""

    tasks: int
    concurrency: int = 64
    latency: float = 0.5
    jitter: float = 0.25
    overrides: tuple[str, ...] = ()


DEFAULTS = {
    "offline": Scenario(tasks=2000),
    "offline-scale": Scenario(tasks=5000),
    "utilization": Scenario(tasks=300, concurrency=64, latency=0.5, jitter=0.25),
    "cpu": Scenario(tasks=300, concurrency=128, latency=0.02, jitter=0.0),
    "faults": Scenario(tasks=100, concurrency=32, latency=0.1, jitter=0.05),
    "pool": Scenario(tasks=80, concurrency=16, latency=0.5, jitter=0.25),
}
FAULTS = Faults(rate_429=0.10, rate_500=0.05, rate_garbage=0.08)


@dataclass
class Check:
    """One number held against its target."""

    name: str
    value: float
    target: str
    ok: bool


#: The checks of form only: the simulated endpoint's assistant (benchmarks/roles.py) calls each
#: listed function with schema-drawn arguments, so its data is well-formed but not grounded.
#: These scenarios measure throughput and fault survival, so they keep what is well-formed.
FORM_CHECKS = "[known_functions,valid_arguments,valid_results,answered_calls,final_answer,turn_limit,parallel_policy]"


def llm_overrides(base_url: str, scenario: Scenario) -> list[str]:
    """The LLM roles on the simulated endpoint; tasks from the offline library; no response cache;
    only the checks of form (see FORM_CHECKS)."""
    return [
        "model=openai",
        f"model.base_url={base_url}",
        f"model.api_key_env={KEY_ENV}",
        "model.name=benchmark-model",  # a name AutoGen does not resolve to a dated one, so no mismatch warning
        "model.cache_dir=null",
        "composition/source=library",
        f"environment.checks={FORM_CHECKS}",
        f"num_tasks={scenario.tasks}",
        f"runner.concurrency={scenario.concurrency}",
        "runner.progress=false",
        *scenario.overrides,
    ]


@dataclass(frozen=True)
class Timed:
    """A pipeline run: its stats.json, when it started and ended (time.monotonic) and its CPU."""

    stats: dict[str, Any]
    started: float
    ended: float
    cpu: float

    @property
    def wall(self) -> float:
        return self.ended - self.started


async def _timed_pipeline(run_dir: Path, overrides: list[str]) -> Timed:
    """Run the pipeline in this process, timed with the clock the endpoint's meter uses."""
    from button.api import run_pipeline_async

    cpu, started = time.process_time(), time.monotonic()
    stats = await run_pipeline_async(run_dir, overrides)
    return Timed(stats, started, time.monotonic(), time.process_time() - cpu)


async def offline(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    run_dir = work / "offline"
    run = await _timed_pipeline(run_dir, [f"num_tasks={scenario.tasks}", "runner.progress=false"])
    wall, cpu = run.wall, run.cpu
    content = read_run(run_dir)
    ms_per_message = 1000 * cpu / max(content.messages, 1)
    result = {
        "tasks": scenario.tasks,
        "trajectories": content.trajectories,
        "messages": content.messages,
        "wall_s": wall,
        "cpu_s": cpu,
        "trajectories_per_s": content.trajectories / wall,
        "cpu_ms_per_message": ms_per_message,
    }
    return result, [Check("offline CPU ms per agent message", ms_per_message, "<= 1.0", ms_per_message <= 1.0)]


async def offline_scale(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    run_dir = work / "offline-scale"
    child = run_child(["-m", "button", f"num_tasks={scenario.tasks}", f"hydra.run.dir={run_dir}", "runner.progress=false"])
    if child.returncode != 0:
        raise RuntimeError(f"button exited with {child.returncode}:\n{child.stderr[-2000:]}")
    content = read_run(run_dir)
    result = {
        "tasks": scenario.tasks,
        "trajectories": content.trajectories,
        "wall_s": child.wall,
        "cpu_s": child.cpu,
        "trajectories_per_s": content.trajectories / child.wall,
        "peak_rss_mb": child.max_rss_mb,
    }
    return result, [Check("offline peak RSS (MB)", child.max_rss_mb, "< 600", child.max_rss_mb < 600)]


async def _endpoint_run(scenario: Scenario, work: Path, name: str, *, with_bare_client: bool = False) -> dict[str, Any]:
    """One in-process LLM run against a fresh endpoint; utilization and rates from its meter;
    then, if asked, the bare client against the same endpoint."""
    settings = EndpointSettings(latency=scenario.latency, jitter=scenario.jitter)
    with EndpointProcess(settings) as endpoint:
        before = endpoint.stats()
        with InFlightSampler(endpoint) as sampler:
            run = await _timed_pipeline(work / name, llm_overrides(endpoint.base_url, scenario))
        after = endpoint.stats()
        requests = after["requests"] - before["requests"]
        bare = await bare_clients(endpoint, requests, scenario.concurrency) if with_bare_client else None
    area = after["area"] - before["area"]
    active = after["last_end"] - after["first_begin"]
    last_full = sampler.last_full(scenario.concurrency)
    content = read_run(work / name)
    result = {
        "tasks": scenario.tasks,
        "concurrency": scenario.concurrency,
        "latency_s": scenario.latency,
        "jitter_s": scenario.jitter,
        "trajectories": content.trajectories,
        "kept": content.kept,
        "reject_reasons": content.reject_reasons,
        "requests": requests,
        "max_in_flight": after["max_in_flight"],
        "wall_s": run.wall,
        "cpu_s": run.cpu,
        "cpu_ms_per_request": 1000 * run.cpu / max(requests, 1),
        "utilization": area / (scenario.concurrency * run.wall),
        "requests_per_s": requests / run.wall,
        "ideal_requests_per_s": scenario.concurrency / scenario.latency if scenario.latency else None,
        # where the whole-run figure loses: before the first request, after the last answer,
        # and the drain (in flight below 90% of the concurrency until the last answer)
        "before_first_request_s": after["first_begin"] - run.started,
        "after_last_answer_s": run.ended - after["last_end"],
        "drain_s": after["last_end"] - last_full if last_full is not None else None,
        "active_window_utilization": area / (scenario.concurrency * active),
        "stats_timings_s": run.stats.get("timings_s"),
        "in_flight_curve": [(round(at - run.started, 2), in_flight) for at, in_flight in sampler.samples],
    }
    if bare is not None:
        result["bare_client"] = bare
    return result


async def utilization(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    result = await _endpoint_run(scenario, work, "utilization")
    result["share_of_ideal_rate"] = result["requests_per_s"] / result["ideal_requests_per_s"]
    return result, [Check("endpoint utilization", result["utilization"], ">= 0.90", result["utilization"] >= 0.90)]


MINIMAL_BODY = {
    "model": "benchmark-model",
    "messages": [{"role": "system", "content": "You are playing a person."}, {"role": "user", "content": "Hello."}],
}


async def bare_client(base_url: str, requests: int, concurrency: int, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """The openai AsyncOpenAI client alone: ``concurrency`` workers sending ``requests`` in turn from ``bodies``."""
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key="benchmark-dummy-key", max_retries=0)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while sent < requests:
            body = bodies[sent % len(bodies)]
            sent += 1
            await client.chat.completions.create(**body)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await client.close()
    return {"requests": requests, "wall_s": wall, "cpu_s": cpu, "requests_per_s": requests / wall}


async def bare_clients(endpoint: EndpointProcess, requests: int, concurrency: int) -> dict[str, Any]:
    """The bare client with a minimal body (twice, around the other; their mean evens out load from
    other processes) and replaying a sample of the run's own request bodies (same payloads)."""
    minimal = [await bare_client(endpoint.base_url, requests, concurrency, [MINIMAL_BODY])]
    same_bodies = await bare_client(endpoint.base_url, requests, concurrency, endpoint.sample())
    minimal.append(await bare_client(endpoint.base_url, requests, concurrency, [MINIMAL_BODY]))
    return {
        "minimal_body_runs": minimal,
        "requests_per_s": sum(run["requests_per_s"] for run in minimal) / len(minimal),
        "same_bodies": same_bodies,
    }


#: Rounds of the CPU-bound comparison; their mean evens out load from other processes on a shared machine.
CPU_ROUNDS = 2


async def cpu_bound(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    rounds = []
    for number in range(1, CPU_ROUNDS + 1):
        result = await _endpoint_run(scenario, work, f"cpu-{number}", with_bare_client=True)
        bare = result["bare_client"]
        result["ratio_to_bare_client"] = result["requests_per_s"] / bare["requests_per_s"]
        result["ratio_to_bare_client_same_bodies"] = result["requests_per_s"] / bare["same_bodies"]["requests_per_s"]
        rounds.append(result)
    summary = dict(rounds[0])
    for key in ("ratio_to_bare_client", "ratio_to_bare_client_same_bodies", "requests_per_s", "cpu_ms_per_request"):
        summary[key] = sum(result[key] for result in rounds) / len(rounds)
    summary["rounds"] = [
        {key: result[key] for key in ("requests_per_s", "ratio_to_bare_client", "ratio_to_bare_client_same_bodies")}
        | {"bare_client_requests_per_s": result["bare_client"]["requests_per_s"]}
        for result in rounds
    ]
    ratio = summary["ratio_to_bare_client"]
    return summary, [Check("CPU-bound req/s / bare AsyncOpenAI req/s", ratio, ">= 0.7", ratio >= 0.7)]


async def faults(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    run_dir = work / "faults"
    settings = EndpointSettings(latency=scenario.latency, jitter=scenario.jitter, faults=FAULTS)
    with EndpointProcess(settings) as endpoint:
        overrides = llm_overrides(endpoint.base_url, scenario)
        child = run_child(["-m", "button", *overrides, f"hydra.run.dir={run_dir}"], env={KEY_ENV: "benchmark-dummy-key"})
        served = endpoint.stats()
    content = read_run(run_dir)
    problems = export_problems(run_dir)
    traceback = "Traceback" in child.stderr
    result = {
        "tasks": scenario.tasks,
        "faults": vars(FAULTS),
        "exit_code": child.returncode,
        "traceback_on_stderr": traceback,
        "stderr_tail": child.stderr[-1500:],
        "wall_s": child.wall,
        "requests": served["requests"],
        "statuses": served["statuses"],
        "trajectories": content.trajectories,
        "kept": content.kept,
        "reject_reasons": content.reject_reasons,
        "unexplained_rejections": content.unexplained_rejections,
        "export_records_with_problems": {name: len(found) for name, found in problems.items()},
        "export_problems_sample": [p for found in problems.values() for p in found][:5],
    }
    bad_exports = sum(len(found) for found in problems.values())
    return result, [
        Check("faults: exit code", child.returncode, "== 0", child.returncode == 0),
        Check("faults: tracebacks on stderr", int(traceback), "== 0", not traceback),
        Check("faults: rejections without reason", content.unexplained_rejections, "== 0", content.unexplained_rejections == 0),
        Check("faults: export problems", bad_exports, "== 0", bad_exports == 0 and bool(problems)),
    ]


async def pool(scenario: Scenario, work: Path) -> tuple[dict[str, Any], list[Check]]:
    settings = EndpointSettings(latency=scenario.latency, jitter=scenario.jitter)
    with EndpointProcess(settings) as alone:
        single = await _timed_pipeline(work / "pool-1", llm_overrides(alone.base_url, scenario))
        single_requests = alone.stats()["requests"]
    with EndpointProcess(settings) as first, EndpointProcess(replace(settings, seed=1)) as second:
        replicas = f"[{first.base_url},{second.base_url}]"
        pooled = await _timed_pipeline(work / "pool-2", llm_overrides(replicas, scenario))
        served = [first.stats()["requests"], second.stats()["requests"]]
    single_rate, pooled_rate = single_requests / single.wall, sum(served) / pooled.wall
    ratio = pooled_rate / single_rate
    result = {
        "tasks": scenario.tasks,
        "concurrency_per_endpoint": scenario.concurrency,
        "latency_s": scenario.latency,
        "jitter_s": scenario.jitter,
        "one_endpoint_requests_per_s": single_rate,
        "pool_requests_per_s": pooled_rate,
        "pool_ratio": ratio,
        "pool_requests_by_replica": served,
        "pool_wall_s": pooled.wall,
        "one_endpoint_wall_s": single.wall,
    }
    return result, [Check("pool of 2 req/s / one endpoint req/s", ratio, ">= 1.6", ratio >= 1.6)]


RUNS: dict[str, Callable[[Scenario, Path], Awaitable[tuple[dict[str, Any], list[Check]]]]] = {
    "offline": offline,
    "offline-scale": offline_scale,
    "utilization": utilization,
    "cpu": cpu_bound,
    "faults": faults,
    "pool": pool,
}


def table(results: dict[str, dict[str, Any]], checks: list[Check]) -> str:
    lines = [f"{'scenario':<14} {'measure':<28} value"]
    shown = (
        "trajectories_per_s", "cpu_ms_per_message", "peak_rss_mb", "wall_s", "utilization", "requests_per_s",
        "ideal_requests_per_s", "share_of_ideal_rate", "before_first_request_s", "drain_s", "after_last_answer_s",
        "active_window_utilization", "cpu_ms_per_request", "ratio_to_bare_client", "ratio_to_bare_client_same_bodies", "kept",
        "trajectories", "exit_code", "unexplained_rejections", "one_endpoint_requests_per_s", "pool_requests_per_s",
        "pool_ratio",
    )
    for scenario, result in results.items():
        for key in shown:
            if result.get(key) is not None:
                value = result[key]
                lines.append(f"{scenario:<14} {key:<28} {value:.3f}" if isinstance(value, float) else f"{scenario:<14} {key:<28} {value}")
        if "bare_client" in result:
            bare = result["bare_client"]
            lines.append(f"{scenario:<14} {'bare_client_requests_per_s':<28} {bare['requests_per_s']:.3f}")
            lines.append(f"{scenario:<14} {'bare_same_bodies_requests_per_s':<28} {bare['same_bodies']['requests_per_s']:.3f}")
        for number, round_ in enumerate(result.get("rounds", []), start=1):
            lines.append(f"{scenario:<14} {f'round {number}: ratio':<28} {round_['ratio_to_bare_client']:.3f}")
    lines.append("")
    lines.append(f"{'target':<46} {'value':>10}  {'goal':<8} ok")
    for check in checks:
        lines.append(f"{check.name:<46} {check.value:>10.3f}  {check.target:<8} {'yes' if check.ok else 'NO'}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", action="append", choices=[*RUNS, "all"], help="repeatable; default: all")
    parser.add_argument("--tasks", type=int, help="num_tasks for every chosen scenario (defaults per scenario)")
    parser.add_argument("--latency", type=float, help="mean endpoint latency in seconds")
    parser.add_argument("--jitter", type=float, help="half-width of the uniform latency jitter in seconds")
    parser.add_argument("--concurrency", type=int, help="runner.concurrency")
    parser.add_argument(
        "--override", action="append", default=[], metavar="KEY=VALUE",
        help="extra Hydra override for the runs against the endpoint, e.g. runner.conversations=256 (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory for the JSON results")
    parser.add_argument("--work", type=Path, help="keep run directories here (default: a temporary directory)")
    return parser.parse_args(argv)


def chosen(args: argparse.Namespace) -> dict[str, Scenario]:
    names = list(RUNS) if not args.scenario or "all" in args.scenario else list(dict.fromkeys(args.scenario))
    flags = {key: getattr(args, key) for key in ("tasks", "latency", "jitter", "concurrency") if getattr(args, key) is not None}
    for key in ("tasks", "concurrency"):
        if flags.get(key, 1) < 1:
            raise SystemExit(f"--{key} must be >= 1, got {flags[key]}")
    return {name: replace(DEFAULTS[name], overrides=tuple(args.override), **flags) for name in names}


async def warm_imports() -> None:
    """Import the pipeline's modules before any clock starts: a process pays that once, not per run.

    The roles and sources are imported by Hydra's instantiate, Hydra discovers its plugins on its
    first compose, and the HTTP stack imports its socket backends on its first connection.
    """
    import agents.llm.assistant  # noqa: F401
    import agents.llm.tool  # noqa: F401
    import agents.llm.user  # noqa: F401
    import agents.model_clients  # noqa: F401
    import autogen_ext.models.openai  # noqa: F401
    import composition.llm.source  # noqa: F401
    import composition.offline  # noqa: F401
    from button.api import compose_config

    compose_config()
    with EndpointProcess(EndpointSettings(latency=0.0, jitter=0.0)) as endpoint:
        await bare_client(endpoint.base_url, 1, 1, [MINIMAL_BODY])


async def main_async(args: argparse.Namespace) -> int:
    os.environ[KEY_ENV] = "benchmark-dummy-key"
    await warm_imports()
    scenarios = chosen(args)
    results: dict[str, dict[str, Any]] = {}
    checks: list[Check] = []
    with tempfile.TemporaryDirectory(prefix="button-bench-") as temporary:
        work = args.work or Path(temporary)
        for name, scenario in scenarios.items():
            print(f"running {name}: {scenario}", file=sys.stderr, flush=True)
            results[name], found = await RUNS[name](scenario, work)
            checks += found
    print(table(results, checks))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"scale-{datetime.now():%Y%m%d-%H%M%S}.json"
    document = {"command": sys.argv, "cpus": os.cpu_count(), "results": results, "checks": [vars(c) for c in checks]}
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"results: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
