"""Plug-ins defined outside the package (examples/extensions.py) work from config alone, and
docs/extending.md shows exactly the code that runs."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO, read_jsonl
from environment.verification import default_checks

EXAMPLES = {"extensions": REPO / "examples" / "extensions.py", "custom_role": REPO / "examples" / "custom_role.py"}


def test_a_strategy_a_check_and_an_exporter_of_ones_own_run_through_the_cli(tmp_path: Path, button_cli) -> None:
    result = button_cli(
        "num_tasks=4",
        "runner.progress=false",
        "~composition.strategies",
        "+composition.strategies={extensions.TwoChains: 1}",
        "environment.checks=[final_answer,correct_answer,extensions.ShortAnswer]",
        "export.formats=[hf,extensions.QAExporter]",
        f"hydra.run.dir={tmp_path}",
        env={"PYTHONPATH": str(REPO / "examples")},
    )
    assert result.returncode == 0, result.stderr
    tasks = [task for task in read_jsonl(tmp_path / "tasks.jsonl") if task["kept"]]
    assert len(tasks) == 4
    assert all(task["strategy"] == "two_chains" and task["edges"] == [[0, 1], [2, 3]] for task in tasks)
    trajectories = [t for t in read_jsonl(tmp_path / "trajectories.jsonl") if t["kept"]]
    assert len(trajectories) == 4
    assert all([c["name"] for c in t["checks"]] == ["final_answer", "correct_answer", "short_answer"] for t in trajectories)
    records = read_jsonl(tmp_path / "export" / "qa.jsonl")
    finals = {t["id"]: t["messages"][-1]["content"] for t in trajectories}
    assert {r["id"]: r["answer"] for r in records} == finals
    assert all(r["question"] for r in records)


def test_own_checks_run_after_the_built_ins_in_the_order_given() -> None:
    checks = default_checks(8, ["examples.extensions.ShortAnswer", "final_answer"])
    assert [check.name for check in checks] == ["final_answer", "short_answer"]


def test_every_code_block_of_the_guide_is_code_that_runs() -> None:
    """Each python block of docs/extending.md is copied from an example module the tests run."""
    guide = (REPO / "docs" / "extending.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", guide, re.DOTALL)
    assert len(blocks) >= 4
    sources = {name: path.read_text() for name, path in EXAMPLES.items()}
    for block in blocks:
        assert any(block.strip() in source for source in sources.values()), block[:80]


def test_a_shape_the_library_cannot_realize_is_a_one_line_error(tmp_path: Path, button_cli) -> None:
    result = button_cli(
        "num_tasks=2", "~composition.strategies", "+composition.strategies={tests.bad_shapes.Fork: 1}", f"hydra.run.dir={tmp_path}"
    )
    assert result.returncode == 2
    assert "strategy 'fork' drew a shape" in result.stderr and "compose" in result.stderr
    assert "Traceback" not in result.stderr
