"""The training data side of the learning loop: which messages are in it already (TrainingIndex), and
applying labelled examples to it (plan_apply -> ApplyPlan.write / restore).

The data stays where the model is trained from: `<data_dir>/<lang>/<intent>.yml`, Rasa 3 YAML in the
repository's exact format (nlu/data/en/agent_fees.yml):

    version: "3.1"
    nlu:
    - intent: agent_fees
      examples: |
        - agent wants [8 lakh](amount) for [Saudi](country) visa, is that ok

A new example goes where the file's order (case-folded, annotations stripped) puts it; existing lines are
never rewritten. An example labelled into an intent is removed from every other intent of its language
(and replaces an equal example of its own intent, whose entities may differ). The files are written
all or none: every new text is written beside its file first, then moved over it; `restore` puts the
old texts back (the caller's database transaction failed). Pure file work: no database, no framework.
"""
from __future__ import annotations

import bisect
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from ..nlu.data import strip_annotations
from .group import normalize

HEADER = 'version: "3.1"\nnlu:\n- intent: {intent}\n  examples: |\n'
ENTITIES = ("country", "amount")
_INTENT = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_LANG = re.compile(r"^[a-z]{2}(?:-[A-Za-z]{2,4})?$")
_ANNOTATED = re.compile(r"\[([^\]]+)\]\(([a-z_]+)\)")


@dataclass(frozen=True)
class Labelled:
    language: str
    intent: str
    text: str  # redacted, as the inbox shows it
    entities: tuple[tuple[int, int, str], ...] = ()  # (start, end, entity) on `text`


def clean_example(text: str) -> str:
    """One line of training data: no brackets or braces (Rasa's annotation syntax), no leading "/" or
    "-", no line breaks (nlu/LABELING.md)."""
    text = re.sub(r"\s+", " ", text).strip()
    text = text.translate(str.maketrans("[]{}", "()()"))
    return text.lstrip("/- ").strip()


def annotate(example: Labelled) -> str:
    """The example's line (without "- "): the entity spans as [span](entity)."""
    text, spans = example.text, sorted(example.entities)
    out, last = [], 0
    for start, end, entity in spans:
        if entity not in ENTITIES or start < last or end <= start or end > len(text):
            raise ValueError(f"bad entity span {start}-{end} {entity!r} in {text!r}")
        out.append(text[last:start])
        out.append(f"[{clean_example(text[start:end])}]({entity})")
        last = end
    out.append(text[last:])
    line = "".join(out)
    # brackets the user typed become parentheses; the annotations' own stay
    parts = _ANNOTATED.split(line)
    rebuilt = []
    for index in range(0, len(parts), 3):
        rebuilt.append(parts[index].translate(str.maketrans("[]{}", "()()")))
        if index + 2 < len(parts):
            rebuilt.append(f"[{parts[index + 1]}]({parts[index + 2]})")
    return re.sub(r"\s+", " ", "".join(rebuilt)).strip().lstrip("/- ").strip()


def parse_line(line: str) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """An annotated example back into (text, entity spans): the inverse of annotate."""
    text, spans, last = [], [], 0
    length = 0
    for match in _ANNOTATED.finditer(line):
        before = line[last:match.start()]
        text.append(before)
        length += len(before)
        spans.append((length, length + len(match.group(1)), match.group(2)))
        text.append(match.group(1))
        length += len(match.group(1))
        last = match.end()
    text.append(line[last:])
    return "".join(text), tuple(spans)


def _sort_key(line: str) -> str:
    return strip_annotations(line).casefold()


def read_file(path: Path) -> list[str]:
    """The example lines of one intent file (without "- ")."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines: list[str] = []
    for item in data.get("nlu", []) or []:
        for line in str(item.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                lines.append(line[2:].strip())
    return lines


def render(intent: str, lines: Iterable[str]) -> str:
    return HEADER.format(intent=intent) + "".join(f"    - {line}\n" for line in lines)


class TrainingIndex:
    """The keys (group.normalize) of every example under data_dir, per language; the files are looked at
    again (their modification times) at most every `seconds`, or at refresh()."""

    def __init__(self, data_dir: Path | str | None, seconds: float = 5.0):
        self.data_dir = Path(data_dir) if data_dir else None
        self.seconds = seconds
        self._checked = float("-inf")
        self._stamp: tuple | None = None
        self._keys: dict[str, set[str]] = {}

    def _files(self) -> list[Path]:
        if self.data_dir is None or not self.data_dir.is_dir():
            return []
        return [p for p in sorted(self.data_dir.glob("*/*.yml")) if p.parent.name != "entities"]

    def refresh(self) -> None:
        self._checked = time.monotonic()
        files = self._files()
        stamp = tuple((str(p), p.stat().st_mtime_ns) for p in files)
        if stamp == self._stamp:
            return
        keys: dict[str, set[str]] = {}
        for path in files:
            for line in read_file(path):
                keys.setdefault(path.parent.name, set()).add(normalize(strip_annotations(line)))
        self._keys, self._stamp = keys, stamp

    def keys(self, language: str) -> set[str]:
        if time.monotonic() - self._checked >= self.seconds:
            self.refresh()
        return self._keys.get(language, set())

    def __contains__(self, item: tuple[str, str]) -> bool:
        language, key = item
        return key in self.keys(language)


@dataclass
class ApplyPlan:
    """The new text of every file an apply changes; write() writes them all or none."""
    data_dir: Path
    texts: dict[Path, str] = field(default_factory=dict)
    old: dict[Path, str | None] = field(default_factory=dict)
    added: int = 0
    removed: int = 0  # examples taken out of other intents (or replaced in their own)

    def write(self) -> None:
        temps: list[tuple[Path, Path]] = []
        try:
            for path, text in self.texts.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                temp = path.with_name(f".{path.name}.apply-{os.getpid()}")
                temp.write_text(text, encoding="utf-8")
                temps.append((temp, path))
        except BaseException:
            for temp, _ in temps:
                temp.unlink(missing_ok=True)
            raise
        done: list[Path] = []
        try:
            for temp, path in temps:
                os.replace(temp, path)
                done.append(path)
        except BaseException:
            self._restore(done)
            for temp, _ in temps:
                temp.unlink(missing_ok=True)
            raise

    def restore(self) -> None:
        self._restore(list(self.texts))

    def _restore(self, paths: list[Path]) -> None:
        for path in paths:
            old = self.old.get(path)
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(old, encoding="utf-8")


def plan_apply(data_dir: Path | str, examples: Iterable[Labelled]) -> ApplyPlan:
    """What applying `examples` changes under data_dir (nothing is written yet)."""
    data_dir = Path(data_dir)
    plan = ApplyPlan(data_dir)
    lines: dict[Path, list[str]] = {}

    def load(path: Path) -> list[str]:
        if path not in lines:
            if path.exists():
                plan.old[path] = path.read_text(encoding="utf-8")
                lines[path] = read_file(path)
            else:
                plan.old[path] = None
                lines[path] = []
        return lines[path]

    changed: set[Path] = set()
    for example in examples:
        if not _LANG.match(example.language) or not _INTENT.match(example.intent):
            raise ValueError(f"bad language or intent: {example.language!r} {example.intent!r}")
        line = annotate(example)
        if not line:
            continue
        key = normalize(strip_annotations(line))
        folder = data_dir / example.language
        paths = sorted(p for p in folder.glob("*.yml")) if folder.is_dir() else []
        target = folder / f"{example.intent}.yml"
        for path in set(paths) | {target}:
            current = load(path)
            kept = [old for old in current if normalize(strip_annotations(old)) != key]
            if len(kept) != len(current):
                plan.removed += len(current) - len(kept)
                lines[path] = kept
                changed.add(path)
        current = lines[target]
        keys = [_sort_key(old) for old in current]
        if keys == sorted(keys):
            current.insert(bisect.bisect_right(keys, _sort_key(line)), line)
        else:
            current.append(line)
        plan.added += 1
        changed.add(target)
    for path in changed:
        plan.texts[path] = render(path.stem, lines[path])
    return plan
