"""The dataset card written beside the exports: ``export/README.md``.

Its YAML front matter is what the Hugging Face Hub and ``datasets.load_dataset(export_dir,
NAME)`` read: one config per export file, and the features of each. The message lists of the
chat layouts are declared ``json`` (datasets >= 4.7): without that, datasets unifies every
message into one struct, so a user message gets ``tool_calls: None`` and every tool gets the
parameter names of all tools in the file, which breaks chat templates. The body says how the
data was made, what it holds and shows a sample, so the folder can be uploaded as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from environment.trajectory import Trajectory

CARD_NAME = "README.md"
SAMPLE_CHARACTERS = 4000

_JSON_LIST = {"list": "json"}
FEATURES: dict[str, list[dict[str, Any]]] = {
    "hf": [{"name": "messages", **_JSON_LIST}, {"name": "tools", **_JSON_LIST}],
    "openai": [
        {"name": "messages", **_JSON_LIST},
        {"name": "tools", **_JSON_LIST},
        {"name": "parallel_tool_calls", "dtype": "bool"},
    ],
    "sharegpt": [
        {"name": "conversations", "list": [{"name": "from", "dtype": "string"}, {"name": "value", "dtype": "string"}]},
        {"name": "system", "dtype": "string"},
        {"name": "tools", "dtype": "string"},
    ],
    "button": [
        {"name": "id", "dtype": "string"},
        {"name": "messages", "list": [{"name": "role", "dtype": "string"}, {"name": "content", "dtype": "string"}]},
    ],
}

def size_category(count: int) -> str:
    """The Hub's size bucket for ``count`` examples."""
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if count < limit:
            return label
    return "n>1M"


@dataclass
class CardStats:
    """What the card reports, gathered from the trajectories as they are exported."""

    conversations: int = 0
    calls: int = 0
    call_turns: int = 0
    parallel_turns: int = 0
    user_turns: int = 0
    strategies: Counter[str] = field(default_factory=Counter)
    functions: set[str] = field(default_factory=set)

    def add(self, trajectory: Trajectory) -> None:
        self.conversations += 1
        self.strategies[trajectory.strategy or "unknown"] += 1
        self.functions.update(spec.name for spec in trajectory.functions)
        for message in trajectory.messages:
            self.user_turns += message.role == "user"
            if message.tool_calls:
                self.call_turns += 1
                self.calls += len(message.tool_calls)
                self.parallel_turns += len(message.tool_calls) > 1


def front_matter(formats: dict[str, str], count: int, sizes: dict[str, int]) -> dict[str, Any]:
    """The YAML header: ``formats`` maps each export's name to its file name, ``sizes`` to its bytes."""
    names = sorted(formats, key=lambda name: (name != "hf", name))  # hf first: the default config
    return {
        "pretty_name": "Multi-turn function-calling conversations (BUTTON method)",
        "license": "other",
        "language": ["en"],
        "task_categories": ["text-generation"],
        "tags": ["function-calling", "tool-use", "multi-turn", "synthetic"],
        "size_categories": [size_category(count)],
        "configs": [
            {"config_name": name, "data_files": [{"split": "train", "path": formats[name]}], **({"default": True} if i == 0 else {})}
            for i, name in enumerate(names)
        ],
        "dataset_info": [
            {
                "config_name": name,
                "features": FEATURES[name],
                "splits": [{"name": "train", "num_bytes": sizes.get(name, 0), "num_examples": count}],
            }
            for name in names
            if name in FEATURES
        ],
    }


def _table(rows: list[tuple[str, ...]]) -> str:
    header, *body = rows
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def render_card(directory: Path, formats: dict[str, str], descriptions: dict[str, str], stats: CardStats,
                settings: dict[str, Any], sample: dict[str, Any] | None) -> str:
    """The whole README.md: front matter, then what a reader of the dataset needs to know.

    ``formats`` maps each export's name to its file, ``descriptions`` to what its exporter says of it."""
    sizes = {name: (directory / file).stat().st_size for name, file in formats.items() if (directory / file).is_file()}
    header = yaml.safe_dump(front_matter(formats, stats.conversations, sizes), sort_keys=False, allow_unicode=True)
    files = _table([("config", "file", "layout")] + [
        (name, f"`{formats[name]}`", descriptions.get(name, "")) for name in formats
    ])
    numbers = _table([
        ("what", "count"),
        ("conversations", str(stats.conversations)),
        ("function calls", str(stats.calls)),
        ("assistant turns with calls", str(stats.call_turns)),
        ("turns with parallel calls", str(stats.parallel_turns)),
        ("user turns", str(stats.user_turns)),
        ("distinct functions", str(len(stats.functions))),
        *((f"strategy `{name}`", str(number)) for name, number in sorted(stats.strategies.items())),
    ])
    generator = _table([("setting", "value")] + [(key, f"`{value}`") for key, value in settings.items()]) if settings else (
        "Not recorded."
    )
    sample_text = json.dumps(sample, ensure_ascii=False, indent=2) if sample is not None else "(no conversation was kept)"
    if len(sample_text) > SAMPLE_CHARACTERS:
        sample_text = sample_text[:SAMPLE_CHARACTERS] + "\n... (cut; the whole record is the first line of the file)"
    parts = [
        f"---\n{header}---",
        "# Multi-turn function-calling conversations",
        "Synthetic conversations in which an assistant solves a compositional task by calling functions "
        "over several turns, made with the BUTTON method (bottom-up instruction construction, top-down "
        "trajectory generation; arXiv 2410.12952). Every conversation passed the generator's checks. "
        "The same conversations are written in each file below.",
        "**License:** not set by the generator (`license: other` above is a placeholder): choose one, "
        "and mind the terms of the models that generated the data, before you publish.",
        "## Files",
        files,
        "## Statistics",
        numbers,
        "## Generator settings",
        generator,
        "## Loading",
        "```python\nimport datasets\n\nrows = datasets.load_dataset(\"path/to/export\", \"hf\", split=\"train\")\n"
        "text = tokenizer.apply_chat_template(rows[0][\"messages\"], tools=rows[0][\"tools\"], tokenize=False)\n```",
        "The chat layouts declare their messages as `json` features (datasets 4.7 or later), so each "
        "message keeps only its own keys. Older datasets merge all messages of a file into one struct: "
        "every message gets `tool_calls: None`, every call's arguments every parameter name of the file "
        "(as `None`), and date-like strings become timestamps. Chat templates raise on those nulls or "
        "render them into the calls; with datasets before 4.7 read the JSONL files with the `json` module.",
        "## Sample (first `hf` record)" if "hf" in formats else "## Sample",
        f"```json\n{sample_text}\n```",
    ]
    return "\n\n".join(parts) + "\n"


def write_card(directory: Path, formats: dict[str, str], descriptions: dict[str, str], stats: CardStats,
               settings: dict[str, Any], sample: dict[str, Any] | None) -> Path:
    path = Path(directory) / CARD_NAME
    path.write_text(render_card(Path(directory), formats, descriptions, stats, settings, sample), encoding="utf-8")
    return path
