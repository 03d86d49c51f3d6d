"""The Hydra application: builds each plug-in from config and runs the two phases.

Bottom-up, a TaskSource yields compositional tasks; top-down, the ConversationRunner has the
environment controller play each one out and the verifier judge it; the kept trajectories
are then exported. Everything here is wiring: behaviour lives in the packages below.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import shutil
import signal
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from agents.context import RoleFactory
from agents.offline.world_tool import WorldToolSimulator
from composition.errors import ButtonError, ConfigurationError
from composition.jsonl import is_write_failure, read_records, write_whole
from composition.shard import Shard, shard_stream
from composition.stats import PipelineStats
from composition.world import load_world
from environment.controller import EnvironmentController
from environment.export import ExportSet
from environment.run_files import RunFiles
from environment.runner import ConversationRunner
from environment.summary import build_stats, parse_prices
from environment.trajectory import Trajectory
from environment.verification import Verifier, default_checks
from button import ending
from button.closing import announce
from button.interrupt import StopRequest
from button.run_lock import RunDirectoryBusy, hold_run_directory
from button.run_settings import resumed_history, summarize, write_history
from button.settings import Settings, validate_settings

NOISY_LOGGERS = ("httpx", "httpx2", "openai", "autogen_core", "autogen_core.events", "autogen_agentchat")


def _model_clients(cfg: DictConfig, settings: Settings) -> Any:
    if settings.model.provider == "offline":
        return None
    from agents.model_clients import ModelClients

    return ModelClients(OmegaConf.to_container(cfg.model, resolve=True), limits=settings.runner)


def _instantiate_reporting_cause(config: Any, **kwargs: Any) -> Any:
    """Hydra wraps a constructor's error; surface our own user-facing errors unwrapped."""
    try:
        return instantiate(config, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, ButtonError):
            raise error.__cause__ from None
        raise


def _authorized_once(options: dict[str, Any]) -> Callable[..., Any]:
    """A partial of the role class that Hydra's instantiate has authorized (its target policy).

    A Hydra partial re-runs that authorization on every call, about 0.4 ms, and a run builds
    three roles per conversation. The target and its plain options do not change between
    conversations, so the class Hydra authorized once is called directly; options holding
    objects of their own (a nested ``_target_``) keep Hydra's partial.
    """
    checked = _instantiate_reporting_cause(options, _partial_=True)
    if any(isinstance(value, dict) and "_target_" in value for value in options.values()):
        return checked
    plain = {key: value for key, value in options.items() if key not in ("_target_", "_partial_")}
    return functools.partial(get_class(options["_target_"]), **plain)


def role_factory(role: str, cfg: DictConfig, model_clients: Any) -> RoleFactory:
    """A factory for one role; a ``model`` key in its config asks for a model client."""
    options = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(options, dict)
    model_overrides = options.pop("model", None)
    factory = _authorized_once(options)
    if model_overrides is None:
        return factory
    if model_clients is None:
        raise ConfigurationError(
            f"agents/{role}={options['_target_']} needs a language model, but model=offline; "
            "choose a model preset such as model=openai, or an offline role"
        )
    return functools.partial(factory, model_client=model_clients.get(model_overrides))


def truth_source(cfg: DictConfig) -> Any:
    """What ``correct_answer`` checks final answers against (``environment.truth``).

    ``auto``: the world behind a world-backed tool simulator (``agents/tool=world`` or a
    subclass), since its results are the truth; none behind other tools, whose results are
    invented. ``null``: none. A ``{_target_: ...}`` node builds a ``call(name, arguments)``
    callable, or an object with such a ``call``.
    """
    chosen = cfg.environment.get("truth")
    if chosen is None:
        return None
    if chosen != "auto":
        return _instantiate_reporting_cause(chosen)
    tool = cfg.agents.tool
    tool_class = get_class(tool._target_)
    if isinstance(tool_class, type) and issubclass(tool_class, WorldToolSimulator):
        return load_world(tool.get("world_dir")).result
    return None


def build_verifier(cfg: DictConfig, settings: Settings, model_clients: Any) -> Verifier:
    checks = default_checks(settings.environment.max_turns, cfg.environment.get("checks"), truth_source(cfg))
    judge = cfg.environment.get("judge")
    if judge is not None and judge.get("enabled", False):
        checks.append(role_factory("judge", judge.check, model_clients)())
    return Verifier(checks)


def export_about(config: Mapping[str, Any]) -> dict[str, Any]:
    """The generator settings a dataset card states, from a run's config (as composed or saved)."""
    environment = config.get("environment") or {}
    return {
        "model": (config.get("model") or {}).get("name"),
        "seed": config.get("seed"),
        **{key: environment.get(key) for key in ("protocol", "parallel_calls", "max_turns")},
    }


def export_options(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """``export.options``: per-format options of the exporters."""
    return (config.get("export") or {}).get("options")


@contextmanager
def kept_exports(
    files: RunFiles, formats: list[str], options: dict[str, Any] | None = None, about: dict[str, Any] | None = None
) -> Iterator[ExportSet]:
    """Export files that grow as trajectories are kept, starting from those already on disk.

    They are written in a staging folder that replaces the old exports whole once the run is
    over (an interrupted run included: its records are whole), so a killed or failed run leaves
    the previous exports as they were, and a failed one removes its staging folder.
    """
    staging = files.root / ".export-staging"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with ExportSet(staging, formats, options, about) as exports:
            for record in read_records(files.trajectories):
                if record.get("kept"):
                    exports.write(Trajectory.model_validate(record))
            yield exports
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(files.export_dir, ignore_errors=True)
    exports.directory.rename(files.export_dir)
    staging.rmdir()


#: The young generation's collection threshold while conversations run (Python's default: 700).
YOUNG_GC_THRESHOLD = 10_000


@contextmanager
def run_gc_settings() -> Iterator[None]:
    """Garbage collection tuned for the conversation phase, restored afterwards.

    What setup built (modules, config, library, clients) lives all run, so it is frozen out of
    the collector's scans (full collections re-scanned all of it); conversations allocate many
    short-lived containers, so the young generation is collected less often. Against a fast
    endpoint the collector's share of a run's CPU fell from about 8% to under 1%.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def generate(cfg: DictConfig, run_dir: Path, stop: StopRequest | None = None) -> dict[str, Any]:
    """Run the whole pipeline into ``run_dir`` and return what stats.json holds.

    The run directory is locked for the whole run (RunDirectoryBusy if another process holds
    it) and its settings history checked (ResumeSettingsChanged); ``stop`` ends the run early
    but cleanly, with stats.json marked interrupted. OSError means the directory cannot be written.
    """
    config = OmegaConf.to_container(cfg, resolve=True)
    settings = validate_settings(config)
    with hold_run_directory(run_dir):
        history = resumed_history(run_dir, config, extend=settings.runner.resume == "extend")
        write_history(run_dir, history)
        return await _generate(cfg, settings, run_dir, stop or StopRequest(), history)


async def _generate(
    cfg: DictConfig, settings: Settings, run_dir: Path, stop: StopRequest, history: list[dict[str, Any]]
) -> dict[str, Any]:
    files = RunFiles(run_dir)
    stats = PipelineStats()
    prices = parse_prices(OmegaConf.to_container(cfg.pricing, resolve=True) if "pricing" in cfg else None)
    model_clients = _model_clients(cfg, settings)
    source_options = OmegaConf.to_container(cfg.composition.source, resolve=True)
    shard = Shard.parse(cfg.get("shard"))
    limit = shard.kept_share(settings.num_tasks) if shard else settings.num_tasks  # what this process keeps
    try:
        source = _instantiate_reporting_cause(
            source_options,
            strategies=OmegaConf.to_container(cfg.composition.strategies, resolve=True),
            composition={k: v for k, v in OmegaConf.to_container(cfg.composition).items() if k != "source"},
            seed=settings.seed,
            stats=stats,
            run_dir=run_dir,
            model_clients=model_clients,
        )
        environment = settings.environment
        controller = EnvironmentController(
            user=role_factory("user", cfg.agents.user, model_clients),
            assistant=role_factory("assistant", cfg.agents.assistant, model_clients),
            tool=role_factory("tool", cfg.agents.tool, model_clients),
            protocol=environment.protocol,
            parallel_calls=environment.parallel_calls,
            max_turns=environment.max_turns,
            max_format_errors=environment.max_format_errors,
            keep_recoveries=environment.keep_recoveries,
            seed=settings.seed,
            distractor_tools=environment.distractor_tools,
        )
        config = OmegaConf.to_container(cfg, resolve=True)
        with kept_exports(files, settings.export.formats, export_options(config), export_about(config)) as exports, run_gc_settings():
            runner = ConversationRunner(
                controller,
                build_verifier(cfg, settings, model_clients),
                files,
                conversations=settings.runner.conversations_in_flight,
                conversation_timeout=settings.runner.conversation_timeout,
                stats=stats,
                progress=settings.runner.progress,
                usage=model_clients.usage if model_clients is not None else None,
                on_kept=exports.write,
            )
            stop.on_stop(runner.stop)
            tasks = shard_stream(source.generate(settings.num_tasks), shard)
            timings = await runner.run(tasks, limit=limit)
    finally:
        if model_clients is not None:
            await model_clients.close()
    summary = build_stats(
        files,
        stages={name: stage.model_dump() for name, stage in stats.stages.items()},
        models=model_clients.usage() if model_clients is not None else {},
        timings={
            "compose": timings.compose,
            "converse": timings.converse,
            "converse_wall": timings.converse_wall,
            "wall": timings.wall,
        },
        new_trajectories=timings.new_trajectories,
        prices=prices,
        currency=cfg.get("pricing", {}).get("currency", "USD"),
        runner_errors=timings.runner_errors,
        exports=settings.export.formats,
        settings=summarize(history, settings.num_tasks),
    )
    summary["ending"] = ending.ending(summary, limit, getattr(source, "end_reason", None), stop.name)
    if model_clients is not None:
        summary["endpoints"] = model_clients.endpoints()
    write_whole(files.stats, json.dumps(summary, indent=2) + "\n")
    return summary


def quiet_libraries() -> None:
    """Per-request chatter from HTTP and AutoGen stays out of the terminal and the run log."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Servers answer with a dated model name (gpt-4o-mini-2024-07-18); AutoGen warns on each.
    warnings.filterwarnings("ignore", message="Resolved model mismatch", category=UserWarning)


RunJob = Callable[[DictConfig, Path, StopRequest], Awaitable[dict[str, Any]]]
"""A whole job on a run directory (``generate``, or ``button eval``'s ``evaluate``)."""


def run_job(job: RunJob, cfg: DictConfig) -> tuple[dict[str, Any], Path]:
    """Run ``job`` in Hydra's run directory with clean stop signals; what it cannot do is one
    line and its exit status (busy directory 4, bad input 2, a disk that refuses writes 5)."""
    quiet_libraries()
    logging.raiseExceptions = False  # a log line a full disk cannot take is dropped, not a traceback
    run_dir = Path(HydraConfig.get().runtime.output_dir)

    async def with_signals() -> dict[str, Any]:
        stop = StopRequest()
        stop.install(asyncio.get_running_loop())
        return await job(cfg, run_dir, stop)

    try:
        return asyncio.run(with_signals()), run_dir
    except RunDirectoryBusy as error:
        ending.fail(str(error), ending.EXIT_RUN_DIR_BUSY)
    except ButtonError as error:
        ending.fail(str(error), ending.EXIT_BAD_INPUT)
    except OSError as error:
        if not is_write_failure(error):
            raise
        ending.fail(ending.cannot_write(run_dir, error), ending.EXIT_CANNOT_WRITE)


@hydra.main(version_base=None, config_path="pkg://conf", config_name="config")
def hydra_main(cfg: DictConfig) -> None:
    summary, run_dir = run_job(generate, cfg)
    announce(summary, run_dir)
    report_ending(summary["ending"])


def report_ending(record: dict[str, Any]) -> None:
    """The one line (and exit code) for an interrupted, empty or short run; nothing when all is well."""
    if record["interrupted"]:
        signum = getattr(signal, record["interrupted"])
        print(
            f"button: interrupted by {record['interrupted']}: {record['kept_trajectories']} trajectories kept so far; "
            "stats.json written; rerun the same command to resume",
            file=sys.stderr,
        )
        sys.exit(ending.EXIT_SIGNAL_BASE + signum)
    if (message := ending.nothing_kept_error(record)) is not None:
        ending.fail(message, ending.EXIT_NOTHING_KEPT)
    if (warning := ending.shortfall_warning(record)) is not None:
        print(f"button: warning: {warning}", file=sys.stderr)
