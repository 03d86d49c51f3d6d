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
    assert "converse" in text and "as button, openai, sharegpt" in text  # the stats table
    assert "[assistant (final)]" in text  # a transcript
    assert "<call>" in text  # the training view
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
