"""Load a run's ``export/sharegpt.jsonl`` through LLaMA-Factory's own data pipeline, per template.

    python -m benchmarks.llamafactory_sharegpt RUN_DIR [RUN_DIR ...] [--templates NAME ...] [--show NAME]

For each LLaMA-Factory chat template with function-call formatting (or the ones named), the
script runs what ``llamafactory-cli train`` runs before training: the sharegpt converter (which
skips records whose turns do not alternate) and the template's encoder (which parses every
``function_call`` value), on a byte-level tokenizer built in memory, so nothing is downloaded.
It reports how many records became training examples, or the error that stopped the load.
``--show NAME`` prints the first example decoded, to read it as the model will.

Needs LLaMA-Factory (``pip install llamafactory``, which brings torch); it is not a
dependency of this project.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def byte_tokenizer(directory: Path) -> None:
    """A lossless byte-level tokenizer (no merges), saved where LLaMA-Factory loads a model from."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocabulary = {symbol: index for index, symbol in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    backend = Tokenizer(models.BPE(vocab=vocabulary, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.save_pretrained(directory)
    config = {"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": len(tokenizer)}
    (directory / "config.json").write_text(json.dumps(config))


def function_templates() -> list[str]:
    """LLaMA-Factory's text templates that format function calls their own way (multimodal ones
    need a model's processor, which a tokenizer alone cannot stand in for)."""
    from llamafactory.data.template import TEMPLATES

    return sorted(
        name
        for name, template in TEMPLATES.items()
        if template.format_function.tool_format != "default" and type(template.mm_plugin).__name__ == "BasePlugin"
    )


def load(work: Path, export: Path, template: str) -> tuple[Any, Any]:
    """LLaMA-Factory's tokenizer and training dataset for one template; raises what it raises."""
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer

    info = {"button": {"file_name": str(export / "sharegpt.jsonl"), "formatting": "sharegpt",
                       "columns": {"messages": "conversations", "system": "system", "tools": "tools"}}}
    (work / "dataset_info.json").write_text(json.dumps(info))
    arguments = {
        "stage": "sft", "do_train": True, "finetuning_type": "lora", "model_name_or_path": str(work / "tokenizer"),
        "dataset": "button", "dataset_dir": str(work), "template": template, "cutoff_len": 1_000_000,
        "output_dir": str(work / "out"), "overwrite_cache": True, "report_to": "none",
    }
    model_args, data_args, training_args, _, _ = get_train_args(arguments)
    tokenizer_module = load_tokenizer(model_args)
    chat = get_template_and_fix_tokenizer(tokenizer_module["tokenizer"], data_args)
    dataset = get_dataset(chat, model_args, data_args, training_args, stage="sft", **tokenizer_module)["train_dataset"]
    return tokenizer_module["tokenizer"], dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.llamafactory_sharegpt", description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", type=Path, nargs="+", help="run directories holding export/sharegpt.jsonl")
    parser.add_argument("--templates", nargs="+", metavar="NAME", help="LLaMA-Factory template names (default: all with function formatting)")
    parser.add_argument("--show", metavar="NAME", help="print the first training example of this template, decoded")
    args = parser.parse_args(argv)
    os.environ.setdefault("LLAMAFACTORY_VERBOSITY", "ERROR")  # its progress logs go to stdout
    try:
        templates = args.templates or function_templates()
    except ImportError:
        print("error: this check needs LLaMA-Factory: pip install llamafactory", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="llamafactory-check-"))
    byte_tokenizer(work / "tokenizer")
    header = ["template", *(str(run_dir) for run_dir in args.run_dirs)]
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for template in templates:
        cells = []
        for run_dir in args.run_dirs:
            export = run_dir / "export"
            records = sum(1 for _ in (export / "sharegpt.jsonl").open())
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    tokenizer, dataset = load(work, export, template)
            except Exception as error:  # the finding is what LLaMA-Factory raised
                cells.append(f"error: {type(error).__name__}: {str(error).splitlines()[0][:80]}")
                continue
            cells.append(f"{len(dataset)} of {records}")
            if template == args.show:
                print(tokenizer.decode(dataset[0]["input_ids"]), file=sys.stderr)
        print(f"| {template} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
