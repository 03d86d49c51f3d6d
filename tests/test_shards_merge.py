"""Shards launched as a joblib multirun, merged with `button merge`, equal one run of the same settings."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from button import launchers
from button.api import run_pipeline
from composition.errors import ConfigurationError
from composition.shard import Shard
from conftest import read_jsonl, run_button

SETTINGS = ("num_tasks=10", "seed=3")


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def _lines(path: Path) -> set[str]:
    return set(path.read_text().splitlines())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One run, and the same settings as a 2-shard multirun in two joblib processes."""
    root = tmp_path_factory.mktemp("shards")
    single = root / "single"
    result = run_button(f"hydra.run.dir={single}", *SETTINGS)
    assert result.returncode == 0, result.stderr
    sweep = root / "sweep"
    result = run_button(
        "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={sweep}", "shard=0/2,1/2", *SETTINGS
    )
    assert result.returncode == 0, result.stderr
    return {"single": single, "shard0": sweep / "0", "shard1": sweep / "1", "root": root}


def test_shards_split_the_run_without_overlap(runs: dict[str, Path]) -> None:
    ids = [{r["id"] for r in read_jsonl(runs[s] / "trajectories.jsonl")} for s in ("shard0", "shard1")]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    configs = [(runs[s] / ".hydra" / "config.yaml").read_text() for s in ("shard0", "shard1")]
    assert "shard: 0/2" in configs[0] and "shard: 1/2" in configs[1]


def test_merged_shards_equal_the_single_run(runs: dict[str, Path]) -> None:
    out = runs["root"] / "merged"
    inputs_before = {s: _tree_digest(runs[s]) for s in ("shard0", "shard1")}
    result = run_button("merge", str(out), str(runs["shard0"]), str(runs["shard1"]))
    assert result.returncode == 0, result.stderr
    single = runs["single"]
    for name in ("tasks.jsonl", "trajectories.jsonl"):
        assert _lines(out / name) == _lines(single / name)
        assert len((out / name).read_text().splitlines()) == len((single / name).read_text().splitlines())
    exports = sorted(p.name for p in (single / "export").iterdir())
    assert exports and sorted(p.name for p in (out / "export").iterdir()) == exports
    for name in exports:
        assert _lines(out / "export" / name) == _lines(single / "export" / name)
    merged, alone = json.loads((out / "stats.json").read_text()), json.loads((single / "stats.json").read_text())
    for key in ("tasks", "trajectories", "exports"):
        assert merged[key] == alone[key]
    assert [source["settings"]["shard"] for source in merged["sources"]] == ["0/2", "1/2"]
    assert merged["missing_shards"] == [] and "note" not in result.stdout
    assert sum(source["trajectories"]["total"] for source in merged["sources"]) == alone["trajectories"]["total"]
    assert {s: _tree_digest(runs[s]) for s in ("shard0", "shard1")} == inputs_before  # inputs untouched
    # The merge is a run directory too: merging it with a shard again adds nothing.
    again = runs["root"] / "merged-again"
    result = run_button("merge", str(again), str(out), str(runs["shard1"]))
    assert result.returncode == 0, result.stderr
    assert _lines(again / "trajectories.jsonl") == _lines(single / "trajectories.jsonl")
    assert json.loads((again / "stats.json").read_text())["sources"][1]["duplicates_dropped"] > 0


def test_merge_refuses_runs_made_with_other_settings(runs: dict[str, Path]) -> None:
    other = runs["root"] / "other"
    result = run_button(f"hydra.run.dir={other}", "num_tasks=2", "environment.max_turns=6", "environment.parallel_calls=false")
    assert result.returncode == 0, result.stderr
    out = runs["root"] / "refused"
    result = run_button("merge", str(out), str(runs["shard0"]), str(other))
    assert result.returncode == 2
    error = result.stderr.strip()
    assert error.count("\n") == 0 and "Traceback" not in error
    assert "environment.max_turns (12 vs 6)" in error and "environment.parallel_calls" in error
    assert not out.exists()
    result = run_button("merge", str(out), str(runs["shard0"]), str(other), "--ignore", "environment")
    assert result.returncode == 0, result.stderr
    assert "shards not among the inputs, so this is not the whole run: 1/2 (seed=3, num_tasks=10)" in result.stdout


def test_merge_refuses_to_write_into_an_input(runs: dict[str, Path]) -> None:
    result = run_button("merge", str(runs["shard0"] / "inside"), str(runs["shard0"]))
    assert result.returncode == 2 and "must not be, or be inside, an input" in result.stderr
    assert not (runs["shard0"] / "inside").exists()


@pytest.mark.parametrize("num_tasks,count", [(10, 3), (1, 4), (7, 7)])
def test_shares_of_the_kept_tasks_add_up(num_tasks: int, count: int) -> None:
    shares = [Shard(index, count).kept_share(num_tasks) for index in range(count)]
    assert sum(shares) == num_tasks and max(shares) - min(shares) <= 1


@pytest.mark.parametrize("value", ["2/2", "1", "-1/2", "a/b", "0/0"])
def test_bad_shard_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="shard="):
        Shard.parse(value)


def test_bad_shard_on_the_command_line_is_one_line() -> None:
    result = run_button("shard=2/2")
    assert result.returncode == 2
    assert result.stderr == "button: error: shard='2/2': needs N >= 1 and 0 <= I < N, such as shard=0/4 .. shard=3/4\n"


def test_a_shard_resumes_on_its_own(tmp_path: Path) -> None:
    """A shard killed mid-way (its last records lost) finishes its share and no more."""
    whole = run_pipeline(tmp_path / "whole", ["num_tasks=6", "shard=1/3"])
    assert whole["tasks"]["kept"] == 2
    killed = tmp_path / "killed"
    run_pipeline(killed, ["num_tasks=6", "shard=1/3"])
    trajectories = (killed / "trajectories.jsonl").read_text().splitlines(keepends=True)
    (killed / "trajectories.jsonl").write_text(trajectories[0])
    resumed = run_pipeline(killed, ["num_tasks=6", "shard=1/3"])
    assert resumed["new_trajectories"] == 1
    for name in ("tasks.jsonl", "trajectories.jsonl"):
        assert _lines(killed / name) == _lines(tmp_path / "whole" / name)


def test_a_missing_launcher_plugin_is_named_with_its_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert launchers.missing_launchers(["hydra/launcher=joblib", "num_tasks=3"]) == []  # installed by [dev]
    monkeypatch.setitem(launchers.PLUGIN_LAUNCHERS, "joblib", ("hydra_plugins.not_installed", "hydra-joblib-launcher", "joblib"))
    assert launchers.missing_launchers(["hydra/launcher=joblib"]) == [
        "hydra/launcher=joblib needs the hydra-joblib-launcher plugin: pip install 'button-datagen[joblib]'"
    ]


def test_the_slurm_launcher_config_builds_on_submitit() -> None:
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    with initialize_config_module(config_module="conf", version_base=None):
        launcher = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True).hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher") and launcher.max_num_timeout > 0
