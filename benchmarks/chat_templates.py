"""Render exports through real chat templates, as trainers do, and report what each template makes of them.

    python -m benchmarks.chat_templates --templates DIR RUN_DIR [RUN_DIR ...] [--format hf]

TRL, axolotl and LLaMA-Factory's HF path turn a record into training text with
``tokenizer.apply_chat_template(messages, tools=tools)``; this script does exactly that, with
transformers' own ``apply_chat_template`` on a tiny in-memory tokenizer (no download), for
every record of ``export/<format>.jsonl`` of each run directory and every tool-capable
template found under ``--templates`` (``*.jinja`` files, and ``chat_template`` entries of
``tokenizer_config.json`` files; duplicates by content are rendered once). Templates are not
part of this project: gather them from public model repositories into a local directory.

A record renders *clean* when the template raises nothing and the text shows every call
with its arguments as a JSON object (not an escaped string) and every result. To see that
regardless of how a template lays calls out (JSON, pythonic, XML-ish), the check renders a
probe copy of the record in which every string argument, every number argument and every
result is replaced by a unique marker; the layout is untouched, so a template treats the
probe as it treats the record. Outcomes per record, worst first:

- ``raises``: the template raised (on the record or its probe);
- ``escaped``: some call's arguments appear as an escaped JSON string (``\\"city\\"``);
- ``dropped call``: some call's argument markers are missing (a call left out, or its
  arguments iterated character by character);
- ``dropped result``: some result's marker is missing;
- ``clean``: none of the above.

Needs the ``templates`` extra: ``pip install -e ".[templates]"``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.system_prompt import stated_parallel_rule
from composition.jsonl import read_records

OUTCOMES = ("clean", "dropped result", "dropped call", "escaped", "raises")

#: Family labels, first match wins, tried on the lower-cased template name.
FAMILIES: list[tuple[str, str]] = [
    (r"gpt-oss|gpt_oss", "gpt-oss"),
    (r"hermes", "Hermes"),
    (r"deepseek", "DeepSeek"),
    (r"qwq", "QwQ"),
    (r"qwen3[-_.]?coder|qwen3coder", "Qwen3-Coder"),
    (r"qwen3\.5|qwen3_5", "Qwen3.5"),
    (r"qwen3", "Qwen3"),
    (r"xlam", "xLAM"),
    (r"qwen", "Qwen2.5"),
    (r"toolace", "ToolACE"),
    (r"nemotron", "Nemotron"),
    (r"llama[-_]?4|llama4", "Llama 4"),
    (r"llama[-_]?3[._]?[123]|llama3\.[123]|llama-3\.[123]", "Llama 3.1-3.3"),
    (r"firefunction", "FireFunction"),
    (r"llama[-_]?3|llama3", "Llama 3"),
    (r"mistral|ministral|devstral|pixtral|magistral", "Mistral"),
    (r"gemma", "Gemma"),
    (r"granite", "Granite"),
    (r"glm", "GLM"),
    (r"kimi", "Kimi"),
    (r"minimax", "MiniMax"),
    (r"phi", "Phi"),
    (r"smollm", "SmolLM"),
    (r"command|cohere|c4ai|aya", "Cohere"),
    (r"functionary", "Functionary"),
    (r"lfm", "LFM"),
    (r"hunyuan|hy3", "Hunyuan"),
    (r"gigachat", "GigaChat"),
    (r"apertus", "Apertus"),
    (r"apriel", "Apriel"),
    (r"laguna|poolside", "Laguna"),
    (r"muse", "Muse"),
    (r"internlm", "InternLM"),
    (r"minicpm", "MiniCPM"),
    (r"mimo", "MiMo"),
    (r"seed", "Seed"),
    (r"stepfun", "StepFun"),
    (r"exaone", "EXAONE"),
    (r"jamba", "Jamba"),
    (r"solar", "Solar"),
    (r"ling", "Ling"),
]


def family(name: str) -> str:
    """The model family a template belongs to, from its name; unknown names are their own family."""
    stem = name.rsplit("/", 1)[-1]
    return next((label for pattern, label in FAMILIES if re.search(pattern, stem.lower())), stem)


@dataclass(frozen=True)
class Template:
    name: str  # source folder / file (and the config entry's name for tokenizer_config.json)
    source: str

    @property
    def family(self) -> str:
        return family(self.name)


def _templates_in(path: Path) -> Iterator[tuple[str, str]]:
    """(name, template text) pairs a file holds; a tokenizer_config.json's are named after its folder."""
    if path.suffix == ".jinja":
        yield path.stem, path.read_text(encoding="utf-8")
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    chat_template = config.get("chat_template")
    if isinstance(chat_template, str):
        yield "", chat_template
    elif isinstance(chat_template, list):
        for entry in chat_template:
            yield entry["name"], entry["template"]


def load_templates(directory: Path) -> list[Template]:
    """Every tool-capable template under ``directory`` (one that renders ``tool_calls``), once
    each: a text seen before (by content) is skipped, so ``*.jinja`` files win over copies."""
    seen: set[str] = set()
    found: list[Template] = []
    files = [*sorted(directory.rglob("*.jinja")), *sorted(directory.rglob("tokenizer_config.json"))]
    for path in files:
        for name, source in _templates_in(path):
            digest = hashlib.sha256(source.strip().encode()).hexdigest()
            if "tool_calls" not in source or digest in seen:
                continue
            seen.add(digest)
            label = "/".join(part for part in (path.parent.relative_to(directory).as_posix(), name) if part not in ("", "."))
            found.append(Template(label or path.parent.name, source))
    return found


# --- probes ------------------------------------------------------------------------------------


@dataclass
class Probe:
    """A record with markers in place of argument values and results, and where they went."""

    messages: list[dict[str, Any]]
    calls: list[list[str]] = field(default_factory=list)  # each call's markers, as rendered text
    escaped: list[list[str]] = field(default_factory=list)  # what its markers look like escaped
    results: list[str] = field(default_factory=list)


class _Markers:
    def __init__(self) -> None:
        self.count = 0

    def string(self) -> str:
        self.count += 1
        return f"MRK{self.count:06d}X"

    def number(self) -> int:
        self.count += 1
        return 7_300_000_000 + self.count


def _mark(value: Any, markers: _Markers, plain: list[str], escaped: list[str], key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mark(v, markers, plain, escaped, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, markers, plain, escaped, key) for v in value]
    if isinstance(value, str):
        marker = markers.string()
        plain.append(marker)
        escaped.append(f'\\"{marker}\\"')
        return marker
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = markers.number()
        plain.append(str(number))
        escaped.append(f'\\"{key}\\": {number}')
        return number
    return value


def probe(messages: list[dict[str, Any]]) -> Probe:
    markers = _Markers()
    result = Probe(copy.deepcopy(messages))
    for message in result.messages:
        for tool_call in message.get("tool_calls") or []:
            function = tool_call["function"]
            arguments = function["arguments"]
            as_text = isinstance(arguments, str)
            plain: list[str] = []
            escaped: list[str] = []
            marked = _mark(json.loads(arguments) if as_text else arguments, markers, plain, escaped)
            function["arguments"] = json.dumps(marked) if as_text else marked
            result.calls.append(plain or [function["name"]])
            result.escaped.append(escaped)
        if message.get("role") == "tool":
            marker = markers.string()
            message["content"] = json.dumps({"result": marker})
            result.results.append(marker)
    return result


# --- rendering ---------------------------------------------------------------------------------


def make_tokenizer() -> Any:
    """A word-level tokenizer with the usual special tokens: apply_chat_template needs a
    tokenizer object, and rendering with tokenize=False never uses its vocabulary."""
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


def render(tokenizer: Any, template: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
    return tokenizer.apply_chat_template(messages, tools=tools, chat_template=template, tokenize=False)


def outcome(tokenizer: Any, template: str, record: dict[str, Any]) -> tuple[str, str]:
    """The worst outcome for one record, and a short detail (the exception, or what is missing)."""
    tools = record.get("tools") or []
    marked = probe(record["messages"])
    try:
        render(tokenizer, template, record["messages"], tools)
        text = render(tokenizer, template, marked.messages, tools)
    except Exception as error:  # a template may raise anything; that is the finding
        return "raises", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:120]
    if any(form in text for forms in marked.escaped for form in forms):
        return "escaped", "arguments rendered as an escaped JSON string"
    missing_calls = [number for number, plain in enumerate(marked.calls) if not all(m in text for m in plain)]
    if missing_calls:
        return "dropped call", f"calls {missing_calls} of {len(marked.calls)} not rendered whole"
    missing_results = [number for number, marker in enumerate(marked.results) if marker not in text]
    if missing_results:
        return "dropped result", f"results {missing_results} of {len(marked.results)} not rendered"
    return "clean", ""


@dataclass
class Row:
    template: Template
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)  # run label -> outcome counts
    details: dict[str, str] = field(default_factory=dict)  # run label -> first problem seen

    def verdict(self, label: str) -> str:
        counts = self.outcomes[label]
        worst = max(counts, key=OUTCOMES.index)
        return "clean" if worst == "clean" else f"{worst} ({counts[worst]})"


def run_label(records: list[dict[str, Any]], run_dir: Path) -> str:
    system = records[0]["messages"][0]["content"] if records and "messages" in records[0] else ""
    rule = stated_parallel_rule(system)
    return {True: "parallel on", False: "parallel off", None: run_dir.name}[rule]


def measure(templates: list[Template], runs: dict[str, list[dict[str, Any]]]) -> list[Row]:
    tokenizer = make_tokenizer()
    rows = []
    for template in templates:
        row = Row(template)
        for label, records in runs.items():
            counts: Counter[str] = Counter()
            for record in records:
                result, detail = outcome(tokenizer, template.source, record)
                counts[result] += 1
                if result != "clean":
                    row.details.setdefault(label, f"{result}: {detail}")
            row.outcomes[label] = counts
        rows.append(row)
    return rows


def markdown(rows: list[Row], labels: list[str]) -> str:
    """Three tables: each template's verdict per run, outcome counts, and clean templates per family."""
    lines = ["| family | template | " + " | ".join(labels) + " |", "|---|---|" + "---|" * len(labels)]
    for row in sorted(rows, key=lambda r: (r.template.family.lower(), r.template.name)):
        cells = [row.verdict(label) for label in labels]
        lines.append(f"| {row.template.family} | {row.template.name} | " + " | ".join(cells) + " |")
    families = sorted({row.template.family for row in rows}, key=str.lower)
    members = {name: [row for row in rows if row.template.family == name] for name in families}
    lines += ["", "| " + " | ".join(["", *labels]) + " |", "|---|" + "---|" * len(labels)]
    for result in OUTCOMES:
        counts = [sum(1 for row in rows if row.verdict(label).split(" (")[0] == result) for label in labels]
        lines.append(f"| templates: {result} | " + " | ".join(str(count) for count in counts) + " |")
    clean_families = [
        sum(1 for name in families if all(row.verdict(label) == "clean" for row in members[name])) for label in labels
    ]
    lines.append(f"| families all clean (of {len(families)}) | " + " | ".join(map(str, clean_families)) + " |")
    lines += ["", "| family | templates | " + " | ".join(f"clean, {label}" for label in labels) + " |",
              "|---|---|" + "---|" * len(labels)]
    for name in families:
        counts = [sum(1 for row in members[name] if row.verdict(label) == "clean") for label in labels]
        lines.append(f"| {name} | {len(members[name])} | " + " | ".join(map(str, counts)) + " |")
    return "\n".join(lines)


def _plain_json(path: Path) -> list[dict[str, Any]]:
    """The records as ``datasets.load_dataset("json", data_files=...)`` gives them: one struct for
    all messages (absent keys become None) and for all tools (every parameter name of the file)."""
    import datasets

    return [dict(row) for row in datasets.load_dataset("json", data_files=str(path), split="train")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chat_templates", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", help="run directories (holding export/) to render")
    parser.add_argument("--templates", type=Path, required=True, help="directory of *.jinja / tokenizer_config.json")
    parser.add_argument("--format", default="hf", choices=["hf", "openai"], help="export file to render (default: hf)")
    parser.add_argument(
        "--plain-json", action="store_true",
        help='load each file with datasets.load_dataset("json") instead of reading it as is (as without the card: nulls filled in)',
    )
    parser.add_argument("--limit", type=int, help="render only the first N records of each run")
    parser.add_argument("--details", action="store_true", help="also print each failing template's first problem")
    parser.add_argument("--json", type=Path, help="write the outcome counts per template here")
    args = parser.parse_args(argv)
    try:
        import transformers  # noqa: F401
    except ImportError:
        print('error: this check needs transformers: pip install -e ".[templates]"', file=sys.stderr)
        return 2
    if not args.templates.is_dir():
        print(f"error: --templates {args.templates} is not a directory", file=sys.stderr)
        return 2
    runs: dict[str, list[dict[str, Any]]] = {}
    for run_dir in args.run_dirs:
        path = run_dir / "export" / f"{args.format}.jsonl"
        if not path.is_file():
            print(f"error: {path} does not exist (is {run_dir} a run directory with the {args.format} export?)", file=sys.stderr)
            return 2
        records = (_plain_json(path) if args.plain_json else list(read_records(path)))[: args.limit]
        runs[run_label(records, run_dir)] = records
    templates = load_templates(args.templates)
    if not templates:
        print(f"error: no tool-capable chat template under {args.templates}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    rows = measure(templates, runs)
    labels = list(runs)
    print(f"{args.format}.jsonl, {', '.join(f'{label}: {len(runs[label])} records' for label in labels)}; "
          f"{len(templates)} templates in {len(set(t.family for t in templates))} families; "
          f"{time.perf_counter() - started:.0f} s\n")
    print(markdown(rows, labels))
    if args.details:
        print()
        for row in rows:
            for label, detail in row.details.items():
                print(f"{row.template.name} [{label}]: {detail}")
    if args.json:
        args.json.write_text(json.dumps(
            {row.template.name: {"family": row.template.family, **{label: dict(row.outcomes[label]) for label in labels}}
             for row in rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
