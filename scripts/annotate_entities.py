"""Marks every country and amount in the training examples as an entity: [Saudia](country).

    .venv/bin/python scripts/annotate_entities.py

Rasa's RegexEntityExtractor only uses the lookup tables and regexes of entities that occur annotated
in the training data; annotating every mention (with the same lookup table and regexes) keeps the data
consistent. Idempotent: already annotated examples are left as they are.
"""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.nlu.data import yaml_block  # noqa: E402
from bot.nlu.entities import read_countries  # noqa: E402


def patterns() -> list[tuple[str, re.Pattern]]:
    countries = read_countries(ROOT / "nlu" / "entities" / "countries.txt")
    names = sorted({v for vs in countries.values() for v in vs} | set(countries), key=len, reverse=True)
    lookup = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b", re.IGNORECASE)
    amount_yaml = yaml.safe_load((ROOT / "nlu" / "data" / "entities" / "amount.yml").read_text(encoding="utf-8"))
    amounts = [re.compile(line[2:], re.IGNORECASE) for line in amount_yaml["nlu"][0]["examples"].splitlines()
               if line.startswith("- ")]
    return [("amount", p) for p in amounts] + [("country", lookup)]


def annotate(text: str, pats) -> str:
    if "](" in text:
        return text
    spans: list[tuple[int, int, str]] = []
    for entity, pattern in pats:
        for m in pattern.finditer(text):
            if m.end() > m.start() and not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), entity))
    for start, end, entity in sorted(spans, reverse=True):
        text = f"{text[:start]}[{text[start:end]}]({entity}){text[end:]}"
    return text


def main() -> None:
    pats = patterns()
    count = 0
    for path in sorted((ROOT / "nlu" / "data").glob("*/*.yml")):
        if path.parent.name == "entities":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        item = data["nlu"][0]
        lines = [l.strip()[2:].strip() for l in item["examples"].splitlines() if l.strip().startswith("- ")]
        annotated = [annotate(t, pats) for t in lines]
        count += sum(a != t for a, t in zip(annotated, lines))
        path.write_text(yaml_block(item["intent"], annotated), encoding="utf-8")
    print(f"annotated {count} examples")


if __name__ == "__main__":
    main()
