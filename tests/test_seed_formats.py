"""Seed conversations from any file the Hugging Face ``datasets`` library reads, in the OpenAI
``messages``, glaive ``chat``/``system`` and ShareGPT ``conversations`` shapes (local files only)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from composition.errors import ConfigurationError
from composition.llm.seeds import SeedFileError, read_seed_conversations
from composition.llm.source import PACKAGED_SEEDS

RECORDS = [json.loads(line) for line in PACKAGED_SEEDS.read_text().splitlines() if line.strip()]
SHIPPED = [seed.text for seed in read_seed_conversations(PACKAGED_SEEDS)]


def test_the_shipped_seeds_read_alike_from_a_json_array(tmp_path: Path) -> None:
    """A JSON array may mix shapes and content types, as the shipped JSONL file does."""
    (tmp_path / "seeds.json").write_text(json.dumps(RECORDS))
    seeds = read_seed_conversations(tmp_path / "seeds.json")
    assert [seed.text for seed in seeds] == SHIPPED and seeds[2].origin == "seeds.json:row 3"


def test_openai_records_read_alike_from_parquet_and_a_saved_dataset(tmp_path: Path) -> None:
    """Arrow gives every message every column (None where a record had none): read the same."""
    chosen = [0, 1, 2, 4]  # the records with text content (Arrow cannot mix text and content parts)
    dataset = datasets.Dataset.from_list([RECORDS[index] for index in chosen])
    dataset.to_parquet(str(tmp_path / "seeds.parquet"))
    dataset.save_to_disk(str(tmp_path / "saved"))
    for source in ("seeds.parquet", "saved"):
        seeds = read_seed_conversations(tmp_path / source)
        assert [seed.text for seed in seeds] == [SHIPPED[index] for index in chosen], source
        assert seeds[2].origin == f"{source}:row 3"


def test_glaive_csv_and_sharegpt_records(tmp_path: Path) -> None:
    datasets.Dataset.from_list(
        [
            {"system": "You can convert currencies.", "chat": "USER: 20 euros in yen? ASSISTANT: About 3,200 yen."},
            {"system": "", "chat": "USER: Weather in Oslo? ASSISTANT: Cold and clear."},
        ]
    ).to_csv(str(tmp_path / "glaive.csv"), index=False)
    glaive = read_seed_conversations(tmp_path / "glaive.csv")
    assert [seed.text for seed in glaive] == [
        "You can convert currencies.\nUSER: 20 euros in yen? ASSISTANT: About 3,200 yen.",
        "USER: Weather in Oslo? ASSISTANT: Cold and clear.",
    ]
    sharegpt = {"conversations": [{"from": "human", "value": "Who wrote Dune?"}, {"from": "gpt", "value": "Frank Herbert."}]}
    (tmp_path / "sharegpt.jsonl").write_text(json.dumps(sharegpt) + "\n")
    datasets.Dataset.from_list([sharegpt]).to_parquet(str(tmp_path / "sharegpt.parquet"))
    for name in ("sharegpt.jsonl", "sharegpt.parquet"):
        assert [seed.text for seed in read_seed_conversations(tmp_path / name)] == ["human: Who wrote Dune?\ngpt: Frank Herbert."]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([{"conversations": [{"from": "human", "value": "hi"}]}, {"conversations": [{"from": "gpt", "value": ""}]}], ": row 2: conversations[0] needs a non-empty string 'value'"),
        ([{"text": "hello"}], ": row 1: a record needs a 'messages' list or a 'chat' text"),
    ],
)
def test_a_bad_row_names_the_file_and_row_in_one_line(tmp_path: Path, rows: list[dict], problem: str) -> None:
    path = tmp_path / "seeds.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(path))
    with pytest.raises(SeedFileError) as raised:
        read_seed_conversations(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_unreadable_sources_are_one_line_configuration_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file at all")
    (tmp_path / "seeds.txt").write_text("hello\n")
    for path, problem in ((tmp_path / "broken.parquet", "cannot be read as a dataset"), (tmp_path / "seeds.txt", "unknown seed file type '.txt'")):
        with pytest.raises(ConfigurationError) as raised:
            read_seed_conversations(path)
        assert str(raised.value).startswith(str(path)) and problem in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(SeedFileError, match="not found: /no/such/seeds.parquet"):
        read_seed_conversations("/no/such/seeds.parquet")


def test_a_broken_seed_dataset_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    from conftest import run_button

    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file at all")
    result = run_button(
        "model=openai", "model.base_url=http://127.0.0.1:9/v1", "model.api_key_env=null",
        f"composition.seed_conversations={tmp_path / 'broken.parquet'}", f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"button: error: {tmp_path / 'broken.parquet'}: cannot be read as a dataset (Parquet magic bytes not found in footer. Either the file is corrupted or this is not a parquet file.)"]
    assert "Traceback" not in result.stdout and "ERROR" not in result.stdout
