"""``button eval``: a model under test plays the assistant on held-out tasks, and is scored.

It is the generation pipeline (button.app.generate: runner, controller, verifier) with three
changes made to the composed config: the tasks come from ``eval`` (button.eval_tasks), an LLM
assistant is not shown the sub-task plan, and ``num_tasks`` is ``eval.size``. The config is
``conf/eval.yaml`` (config.yaml plus the ``eval`` node and world-backed tools), so every
override of a run works here and ``button eval -m agents.assistant.model.name=a,b`` compares
models in one sweep. Each conversation is scored by environment.evaluation into ``eval.jsonl``
(one line per task, with its trajectory) and ``eval.json`` (the aggregates), next to the run's
usual files, and the aggregates are printed as a table.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
from hydra.experimental.callback import Callback
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf, open_dict

from agents.llm.assistant import LLMAssistant
from button.app import generate, report_ending, run_job, truth_source
from button.eval_table import comparison_table, eval_table, read_evaluations
from button.eval_tasks import HeldOutLibrary, RunDirectoryTasks, overlap, references, run_directory
from button.interrupt import StopRequest
from composition.errors import ConfigurationError
from composition.jsonl import read_records, write_whole
from composition.library import load_library
from composition.models import CompositionalTask
from environment.evaluation import aggregate, score_task
from environment.run_files import RunFiles
from environment.summary import parse_prices, with_costs
from environment.trajectory import Trajectory

EVAL_JSON = "eval.json"
EVAL_JSONL = "eval.jsonl"


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def prepare(cfg: DictConfig) -> DictConfig:
    """The run config of an evaluation: its tasks, its size, and no plan for the model under test."""
    cfg = cfg.copy()
    options = cfg.eval
    if isinstance(options.size, bool) or not isinstance(options.size, int) or options.size < 1:
        raise ConfigurationError(f"eval.size must be an integer >= 1, got {options.size!r}")
    with open_dict(cfg):
        cfg.num_tasks = options.size
        if options.tasks is not None:
            cfg.composition.source = {"_target_": _class_path(RunDirectoryTasks), "tasks_dir": str(options.tasks)}
        else:
            cfg.composition.source = {"_target_": _class_path(HeldOutLibrary), "eval_seed": options.seed}
        assistant = get_class(cfg.agents.assistant._target_)
        if isinstance(assistant, type) and issubclass(assistant, LLMAssistant):
            cfg.agents.assistant.show_plan = bool(options.show_plan)
    return cfg


def assistant_model(cfg: DictConfig) -> str | None:
    """The name of the model under test; None for an offline assistant."""
    model = cfg.agents.assistant.get("model")
    return None if model is None else str(model.get("name"))


async def evaluate(cfg: DictConfig, run_dir: Path, stop: StopRequest | None = None) -> dict[str, Any]:
    """Run the evaluation into ``run_dir`` (resuming what is there); returns what eval.json holds.

    A ``stop`` ends it early: the conversations finished so far are scored, and a rerun resumes."""
    run = prepare(cfg)
    stats = await generate(run, run_dir, stop)
    files = RunFiles(run_dir)
    tasks = {record["id"]: CompositionalTask.model_validate(record) for record in read_records(files.tasks) if record.get("kept")}
    trajectories = [Trajectory.model_validate(record) for record in read_records(files.trajectories)]
    truth = truth_source(run)
    refs = references(run_directory(cfg.eval.tasks, "tasks")) if cfg.eval.tasks is not None else {}
    domains = {entry.function.name: entry.domain for entry in load_library().entries if entry.function is not None}
    model = assistant_model(cfg)
    prices = parse_prices(OmegaConf.to_container(cfg.pricing, resolve=True) if "pricing" in cfg else None)
    lines, scores = [], []
    for trajectory in trajectories:
        task = tasks[trajectory.task_id]
        score = score_task(task, trajectory, truth=truth, reference=refs.get(task.id), domains=domains, model=model)
        if model is not None:
            tokens = {"prompt_tokens": score.prompt_tokens, "completion_tokens": score.completion_tokens}
            score.cost = with_costs({model: tokens}, prices)[model]["cost"]
        scores.append(score)
        lines.append(json.dumps({**score.model_dump(mode="json"), "trajectory": trajectory.model_dump(mode="json")}, ensure_ascii=False))
    summary: dict[str, Any] = {
        "model": model or str(cfg.agents.assistant._target_).rsplit(".", 1)[-1],
        "assistant": cfg.agents.assistant._target_,
        "tasks": {"source": "run directory" if cfg.eval.tasks else "held-out library", "path": cfg.eval.tasks, "seed": cfg.eval.seed, "size": cfg.eval.size},
        "truth": "world" if truth is not None else "the conversations' own tool results",
        "references": len(refs),  # reference conversations: what tasks without a gold plan are checked against
        **aggregate(scores),
        "unplayed": len(tasks) - len(scores),  # tasks whose conversation failed outside the controller
        "ending": stats.get("ending"),
    }
    if cfg.eval.train is not None:
        summary["overlap"] = overlap(list(tasks.values()), cfg.eval.train)
    write_whole(run_dir / EVAL_JSONL, "".join(line + "\n" for line in lines))
    write_whole(run_dir / EVAL_JSON, json.dumps(summary, indent=2) + "\n")
    return summary


@hydra.main(version_base=None, config_path="pkg://conf", config_name="eval")
def eval_main(cfg: DictConfig) -> None:
    summary, run_dir = run_job(evaluate, cfg)
    print(eval_table(summary))
    if "overlap" in summary:
        found = summary["overlap"]
        print(f"overlap with {found['train']}: {found['same_text']} tasks with the same text, "
              f"{found['same_functions']} with the same function set, of {summary['overall']['tasks']}")
    print(f"button eval: {run_dir / EVAL_JSON}, {run_dir / EVAL_JSONL}")
    if summary["ending"]["interrupted"]:
        report_ending(summary["ending"])  # the interruption's line and exit status; a rerun resumes


class ComparisonTable(Callback):
    """Ends a sweep of ``button eval`` with one table comparing its runs."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        found = read_evaluations(sorted(Path(str(config.hydra.sweep.dir)).glob(f"*/{EVAL_JSON}")))
        if found:
            print(comparison_table(found))


def main(arguments: Sequence[str]) -> int:
    """``button eval [overrides...]``: the same checks as a run, then the Hydra app."""
    from button.cli import check_composed_config, check_group_overrides, check_no_keys
    from button.launchers import missing_launchers

    arguments = list(arguments)
    problems = (
        check_no_keys(arguments)
        or check_group_overrides(arguments)
        or missing_launchers(arguments)
        or check_composed_config(arguments, config_name="eval")
    )
    if problems:
        for problem in problems:
            print(f"button eval: error: {problem}", file=sys.stderr)
        return 2
    sys.argv = [sys.argv[0], *arguments]
    eval_main()
    return 0
