"""The example notebooks run from top to bottom and show what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from conftest import REPO, read_jsonl


def _outputs_text(notebook: nbformat.NotebookNode) -> str:
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", "") or "".join(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def test_quickstart_notebook_runs_offline(tmp_path: Path) -> None:
    notebook = nbformat.read(REPO / "examples" / "quickstart.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = _outputs_text(notebook)
    assert "converse" in text and "as button, openai, hf, sharegpt" in text  # the stats table
    assert "[assistant (final)]" in text  # a transcript
    assert "<call>" in text  # the training view
    assert "no_calls     20     0.000" in text and "oracle       20     1.000" in text  # the evaluation's comparison
    assert (tmp_path / "outputs" / "notebook-quickstart" / "export" / "openai.jsonl").exists()


def test_custom_role_example_replaces_the_user(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "examples" / "custom_role.py"), str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    openings = [record["messages"][0]["content"] for record in read_jsonl(tmp_path / "trajectories.jsonl")]
    assert len(openings) == 5
    assert all(opening.endswith("please keep the answer short.") for opening in openings)


def test_sweep_notebook_compares_two_strategies_through_the_report(tmp_path: Path) -> None:
    notebook = nbformat.read(REPO / "examples" / "compare_sweep.ipynb", as_version=4)
    NotebookClient(notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    sweep = tmp_path / "outputs" / "notebook-sweep"
    assert (sweep / "report.html").exists() and (sweep / "figures" / "distributions.png").exists()
    strategies = {read_jsonl(sweep / job / "trajectories.jsonl")[0]["strategy"] for job in ("0", "1")}
    assert strategies == {"sequential", "parallel_then_sequential"}
    text = _outputs_text(notebook)
    assert "compare the runs: button report outputs/notebook-sweep" in text
    table = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.startswith("composition=")}
    assert set(table) == {"composition=sequential", "composition=parallel_then_sequential"}
    assert float(table["composition=sequential"][3]) == 0  # no parallel turns in a chain
    assert float(table["composition=parallel_then_sequential"][3]) >= 1
    assert any("image/png" in output.get("data", {}) for cell in notebook.cells for output in cell.get("outputs", []))


def test_notebook_outputs_are_git_ignored_where_the_notebooks_run() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "examples/outputs/notebook-sweep/report.html"], cwd=REPO, capture_output=True
    )
    assert ignored.returncode == 0
