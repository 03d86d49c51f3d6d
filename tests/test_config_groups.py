"""Every option of every config group composes, and every plug-in it names can be built;
every built-in strategy makes kept conversations in a short offline run."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_module
from hydra.utils import get_object
from omegaconf import OmegaConf

from composition.offline import LibraryTaskSource
from composition.strategies import available_strategies, get_strategy
from conftest import REPO, read_jsonl
from environment.export import get_exporter
from environment.verification import default_checks

CONF = REPO / "conf"
OPTIONS = sorted(
    (path.parent.relative_to(CONF).as_posix(), path.stem)
    for path in CONF.rglob("*.yaml")
    if path.parent != CONF and path.parent.relative_to(CONF).parts[0] != "hydra"
)


def _targets(node: Any) -> list[str]:
    """Every ``_target_`` in a config tree."""
    if isinstance(node, dict):
        found = [node["_target_"]] if "_target_" in node else []
        return found + [t for value in node.values() for t in _targets(value)]
    if isinstance(node, list):
        return [t for value in node for t in _targets(value)]
    return []


def test_the_walk_sees_every_group() -> None:
    groups = {group for group, _ in OPTIONS}
    assert {"composition", "composition/source", "agents/user", "agents/assistant", "agents/tool", "environment", "runner", "export", "pricing", "model"} <= groups
    assert ("composition", "k_hop") in OPTIONS and ("composition", "parallel") in OPTIONS


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_each_option_composes_and_names_plug_ins_that_exist(group: str, option: str) -> None:
    with initialize_config_module(config_module="conf", version_base=None):
        cfg = OmegaConf.to_container(compose("config", overrides=[f"{group}={option}"]), resolve=False)
    for target in _targets(cfg):
        assert callable(get_object(target)), target
    composition = cfg["composition"]
    for name in composition["strategies"]:
        assert get_strategy(name)(composition).shape(random.Random(0)).size >= 1
    assert default_checks(cfg["environment"]["max_turns"], cfg["environment"]["checks"])
    options = cfg["export"].get("options") or {}
    for name in cfg["export"]["formats"]:
        assert get_exporter(name, options.get(name)).filename.endswith(".jsonl")


@pytest.mark.parametrize("strategy", available_strategies())
def test_every_built_in_strategy_composes_offline_tasks_that_pass_its_filters(strategy: str) -> None:
    source = LibraryTaskSource(strategies={strategy: 1.0}, composition={"hops": 4, "width": 3}, seed=1)

    async def kept() -> list:
        return [task async for task in source.generate(5) if task.kept]

    tasks = asyncio.run(kept())
    assert len(tasks) == 5 and all(task.strategy == strategy for task in tasks)


@pytest.mark.parametrize("strategy", available_strategies())
def test_every_built_in_strategy_makes_kept_conversations_through_the_cli(strategy: str, tmp_path: Path, button_cli) -> None:
    result = button_cli(
        "num_tasks=3", "runner.progress=false", "~composition.strategies",
        f"+composition.strategies={{{strategy}: 1}}", f"hydra.run.dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr
    trajectories = read_jsonl(tmp_path / "trajectories.jsonl")
    assert len(trajectories) == 3
    assert all(t["kept"] and all(check["passed"] for check in t["checks"]) for t in trajectories)
