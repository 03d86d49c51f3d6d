"""Run the pipeline from Python (notebooks, scripts, tests) with the same config as the CLI."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from button.app import generate, quiet_libraries
from button.evaluate import evaluate


def compose_config(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """The config `button` (or `button eval`: ``config_name="eval"``) would run with these overrides."""
    with initialize_config_module(config_module="conf", version_base=None):
        return compose(config_name=config_name, overrides=list(overrides))


async def run_pipeline_async(run_dir: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Await this where an event loop already runs (Jupyter); returns the stats.json content."""
    quiet_libraries()
    return await generate(compose_config(overrides), Path(run_dir))


async def run_eval_async(run_dir: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """``button eval`` with these overrides, awaited (Jupyter); returns the eval.json content."""
    quiet_libraries()
    return await evaluate(compose_config(overrides, "eval"), Path(run_dir))


def run_pipeline(run_dir: str | Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Run into ``run_dir`` (resuming what is there) and return the stats.json content."""
    return asyncio.run(run_pipeline_async(run_dir, overrides))
