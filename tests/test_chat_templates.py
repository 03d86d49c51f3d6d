"""The chat-template check on templates written here, one per outcome it reports.

Needs the ``templates`` extra (transformers); without it the check cannot run and is skipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_export import TRAJECTORIES

from environment.export import ExportSet

pytest.importorskip("transformers")

MESSAGE_LOOP = """{%- for message in messages -%}
{%- if message.tool_calls -%}[{{ message.content }}]CALLS
{%- for call in CALLS_EXPR %} {{ call.function.name }}({{ call.function.arguments | tojson }}){% endfor %}
{%- elif message.role == 'tool' -%}RESULT {{ RESULT_EXPR }}
{%- else -%}{{ message.role }}: {{ message.content }}
{%- endif %}
{% endfor -%}"""

TEMPLATES = {
    "good.jinja": MESSAGE_LOOP.replace("CALLS_EXPR", "message.tool_calls").replace("RESULT_EXPR", "message.content"),
    "first_call_only.jinja": MESSAGE_LOOP.replace("CALLS_EXPR", "message.tool_calls[:1]").replace("RESULT_EXPR", "message.content"),
    "no_results.jinja": MESSAGE_LOOP.replace("CALLS_EXPR", "message.tool_calls").replace("RESULT_EXPR", "'(hidden)'"),
    "single_calls.jinja": "{%- for message in messages %}{% if message.tool_calls and message.tool_calls | length > 1 %}"
    "{{ raise_exception('one call at a time') }}{% endif %}{% endfor %}"
    + MESSAGE_LOOP.replace("CALLS_EXPR", "message.tool_calls").replace("RESULT_EXPR", "message.content"),
    "plain_chat.jinja": "{% for message in messages %}{{ message.content }}{% endfor %}",
}


@pytest.fixture()
def template_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "templates"
    (directory / "copies").mkdir(parents=True)
    for name, text in TEMPLATES.items():
        (directory / name).write_text(text)
    (directory / "copies" / "tokenizer_config.json").write_text(json.dumps({"chat_template": TEMPLATES["good.jinja"]}))
    return directory


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    with ExportSet(tmp_path / "run", ["hf", "openai"]) as exports:
        for build in TRAJECTORIES:
            exports.write(build())
    return tmp_path / "run"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.chat_templates", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )


def _outcomes(*args: str) -> dict[str, dict[str, int]]:
    json_path = Path(args[-1]).parent / "outcomes.json"
    done = _check(*args, "--json", str(json_path))
    assert done.returncode == 0, done.stderr
    found = json.loads(json_path.read_text())
    return {name: next(value for key, value in counts.items() if key != "family") for name, counts in found.items()}


def test_each_outcome_is_told_apart_on_the_hf_export_and_only_tool_templates_count_once(template_dir: Path, run_dir: Path):
    outcomes = _outcomes("--templates", str(template_dir), str(run_dir))
    assert outcomes == {  # plain_chat has no tool_calls; copies/ repeats good
        "first_call_only": {"clean": 2, "dropped call": 1},  # the parallel conversation loses its second call
        "good": {"clean": 3},
        "no_results": {"dropped result": 3},
        "single_calls": {"clean": 2, "raises": 1},
    }


def test_string_arguments_of_the_openai_export_come_out_escaped(template_dir: Path, run_dir: Path):
    outcomes = _outcomes("--format", "openai", "--templates", str(template_dir), str(run_dir))
    assert outcomes["good"] == {"escaped": 3}


def test_a_missing_export_is_a_one_line_error(template_dir: Path, tmp_path: Path):
    done = _check("--templates", str(template_dir), str(tmp_path))
    assert done.returncode == 2 and "hf.jsonl does not exist" in done.stderr
