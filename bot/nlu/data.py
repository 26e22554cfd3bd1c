"""Reading and writing the NLU training data (Rasa 3 YAML, one file per language and intent:
nlu/data/<lang>/<intent>.yml) and the held-out sets (TSV: lang, intent, text)."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    lang: str


def strip_annotations(text: str) -> str:
    return _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text)


def read_examples(directory: Path, lang: str | None = None) -> list[Example]:
    """Every intent example in the Rasa YAML files under `directory` (language: the folder name)."""
    examples: list[Example] = []
    for path in sorted(directory.rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []) or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    examples.append(Example(strip_annotations(line[2:].strip()), item["intent"], lang or path.parent.name))
    return examples


def yaml_block(intent: str, texts: Iterable[str]) -> str:
    lines = ['version: "3.1"', "nlu:", f"- intent: {intent}", "  examples: |"]
    lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def read_tsv(path: Path) -> list[Example]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Example(row["text"].strip(), row["intent"].strip(), row["lang"].strip()) for row in reader if row.get("text")]


def write_tsv(path: Path, examples: Iterable[Example]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("lang\tintent\ttext\n")
        for ex in examples:
            handle.write(f"{ex.lang}\t{ex.intent}\t{ex.text}\n")
