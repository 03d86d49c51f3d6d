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
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from agents.context import RoleFactory
from composition.errors import ButtonError, ConfigurationError
from composition.jsonl import read_records
from composition.stats import PipelineStats
from environment.controller import EnvironmentController
from environment.export import ExportSet
from environment.run_files import RunFiles
from environment.runner import ConversationRunner
from environment.summary import build_stats, parse_prices
from environment.trajectory import Trajectory
from environment.verification import Verifier, default_checks
from button.report import stats_table
from button.settings import Settings, validate_settings

NOISY_LOGGERS = ("httpx", "httpx2", "openai", "autogen_core", "autogen_core.events", "autogen_agentchat")


def _model_clients(cfg: DictConfig, settings: Settings) -> Any:
    if settings.model.provider == "offline":
        return None
    from agents.model_clients import ModelClients

    return ModelClients(OmegaConf.to_container(cfg.model, resolve=True), limits=OmegaConf.to_container(cfg.runner, resolve=True))


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def _instantiate_reporting_cause(config: Any, **kwargs: Any) -> Any:
    """Hydra wraps a constructor's error; surface our own user-facing errors unwrapped."""
    try:
        return instantiate(config, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, ButtonError):
            raise error.__cause__ from None
        raise


def role_factory(role: str, cfg: DictConfig, model_clients: Any) -> RoleFactory:
    """A factory for one role; a ``model`` key in its config asks for a model client."""
    options = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(options, dict)
    model_overrides = options.pop("model", None)
    factory = _instantiate_reporting_cause(options, _partial_=True)
    if model_overrides is None:
        return factory
    if model_clients is None:
        raise ConfigurationError(
            f"agents/{role}={options['_target_']} needs a language model, but model=offline; "
            "choose a model preset such as model=openai, or an offline role"
        )
    return functools.partial(factory, model_client=model_clients.get(model_overrides))


def build_verifier(cfg: DictConfig, settings: Settings, model_clients: Any) -> Verifier:
    checks = default_checks(settings.environment.max_turns, cfg.environment.get("checks"))
    judge = cfg.environment.get("judge")
    if judge is not None and judge.get("enabled", False):
        checks.append(role_factory("judge", judge.check, model_clients)())
    return Verifier(checks)


@contextmanager
def kept_exports(
    files: RunFiles, formats: list[str], options: dict[str, Any] | None = None, about: dict[str, Any] | None = None
) -> Iterator[ExportSet]:
    """Export files that grow as trajectories are kept, starting from those already on disk.

    They are written in a staging folder that replaces the old exports whole once the run is
    over, so a killed or failed run leaves the previous exports as they were.
    """
    staging = files.root / ".export-staging"
    shutil.rmtree(staging, ignore_errors=True)
    with ExportSet(staging, formats, options, about) as exports:
        for record in read_records(files.trajectories):
            if record.get("kept"):
                exports.write(Trajectory.model_validate(record))
        yield exports
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


async def generate(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Run the whole pipeline into ``run_dir`` and return what stats.json holds."""
    settings = validate_settings(OmegaConf.to_container(cfg, resolve=True))
    files = RunFiles(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    stats = PipelineStats()
    prices = parse_prices(OmegaConf.to_container(cfg.pricing, resolve=True) if "pricing" in cfg else None)
    model_clients = _model_clients(cfg, settings)
    source_options = OmegaConf.to_container(cfg.composition.source, resolve=True)
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
            seed=settings.seed,
        )
        about = {"model": settings.model.name, "seed": settings.seed, "protocol": environment.protocol,
                 "parallel_calls": environment.parallel_calls, "max_turns": environment.max_turns}
        export_options = (settings.export.model_extra or {}).get("options")
        with kept_exports(files, settings.export.formats, export_options, about) as exports, run_gc_settings():
            runner = ConversationRunner(
                controller,
                build_verifier(cfg, settings, model_clients),
                files,
                conversations=_or_default(cfg.runner.get("conversations"), 4 * settings.runner.concurrency),
                conversation_timeout=cfg.runner.get("conversation_timeout"),
                stats=stats,
                progress=settings.runner.progress,
                usage=model_clients.usage if model_clients is not None else None,
                on_kept=exports.write,
            )
            timings = await runner.run(source.generate(settings.num_tasks), limit=settings.num_tasks)
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
        settings={"num_tasks": settings.num_tasks, "seed": settings.seed, "model": settings.model.name},
    )
    files.stats.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def quiet_libraries() -> None:
    """Per-request chatter from HTTP and AutoGen stays out of the terminal and the run log."""
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # Servers answer with a dated model name (gpt-4o-mini-2024-07-18); AutoGen warns on each.
    warnings.filterwarnings("ignore", message="Resolved model mismatch", category=UserWarning)


@hydra.main(version_base=None, config_path="pkg://conf", config_name="config")
def hydra_main(cfg: DictConfig) -> None:
    quiet_libraries()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        summary = asyncio.run(generate(cfg, run_dir))
    except ButtonError as error:
        print(f"button: error: {error}", file=sys.stderr)
        sys.exit(2)
    print(stats_table(summary))
    print(f"run directory: {run_dir}")
