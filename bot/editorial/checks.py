"""Validation of a would-be content: the checks of `safesafar content check` (bot/dialogue/content_check.py,
the glossary included) on the content a change would make, the danger lexicon's and the country list's own
loaders, each error located to an item and a field. A change is refused only for errors it brings: errors
the published content already has (if any) are not blamed on it."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..dialogue.content_check import check_documents
from .layout import (COUNTRIES, DANGER, LayoutError, Piece, SPLIT, assemble, file_item, item_data,
                     read_countries_text)
from .model import Issue

LANGUAGES = ("en", "ur", "ur-Latn")
_NO_TEXT = re.compile(r"\bno (\S+) text\b")
_PATH_IN_MESSAGE = re.compile(r"((?:topics/)?[\w\-/]+\.yml)")


def locate(message: str, languages=LANGUAGES) -> Issue:
    """An error message of the content check, pointing to an item and field: "topics/x.yml answer.ur: ...",
    "facts.yml fia.unconfirmed: no ur text", "offer_check.yml question q3 ask: ...", "conversation.yml
    crisis.run.answer.en: ...", "ur: the median ...", "content does not load: topics/x.yml: ..."."""
    where, sep, rest = message.partition(": ")
    if not sep:
        return Issue(message)
    language = None
    found = _NO_TEXT.search(rest)
    if found and found.group(1) in languages:
        language = found.group(1)
    if where in languages:  # "ur: the median first message ..."
        return Issue(message, "topic", None, "answer", where)
    if where == "content does not load":
        path = _PATH_IN_MESSAGE.search(rest)
        if path:
            kind, key = file_item(path.group(1))
            return Issue(message, kind, key if kind != "file" else path.group(1))
        return Issue(message)
    if where.startswith("contract intent") or where.startswith("languages.yml") and " " not in where:
        return Issue(message, "file" if where.startswith("languages") else "topic",
                     "languages.yml" if where.startswith("languages") else None, None, language)
    path, _, field = where.partition(" ")
    parts = [p for p in re.split(r"[.\s]", field) if p]
    if parts and parts[-1] in languages:
        language = language or parts[-1]
        field = field[:-len(parts[-1])].rstrip(". ")
    if path in SPLIT:
        kind, _parent = SPLIT[path]
        if not field or field == "does not load":
            return Issue(message, kind, None, None, language)
        key, _, sub = field.partition(".")
        return Issue(message, kind, key, sub or None, language)
    kind, key = file_item(path)
    if kind == "file" and not path.endswith(".yml"):
        return Issue(message, None, None, where, language)
    return Issue(message, kind, key, field or None, language)


class Checker:
    """Runs the checks on documents. `contract`: bot.contract.Contract; `locales`: the catalogs folder (the
    glossary is checked against them too), or None."""

    def __init__(self, contract, locales: Path | None = None, today=None):
        self.contract = contract
        self.locales = locales
        self.today = today or date.today
        self._baseline: tuple[object, frozenset[str]] | None = None
        self._danger: tuple[str | None, list[str]] | None = None

    def _danger_errors(self, text: str | None) -> list[str]:
        """The danger lexicon compiled as the bot compiles it (the last text's result is kept: ~1 s)."""
        if self._danger is None or self._danger[0] != text:
            self._danger = (text, _danger_errors(text))
        return self._danger[1]

    def errors(self, pieces: list[Piece]) -> list[str]:
        """Every error of the content the pieces make (messages as `safesafar content check` prints them)."""
        documents = assemble(pieces)
        report = check_documents(documents, self.contract, self.locales, self.today())
        errors = list(report.errors)
        errors += self._danger_errors(documents.get("safety/danger_lexicon.yml"))
        for piece in pieces:
            if piece.kind == COUNTRIES:
                try:
                    read_countries_text(piece.text)
                except LayoutError as exc:
                    errors.append(f"countries.txt: {exc}")
        return errors

    def baseline(self, stamp, pieces: list[Piece]) -> frozenset[str]:
        """The errors of the published content (computed once per content version `stamp`)."""
        if self._baseline is None or self._baseline[0] != stamp:
            self._baseline = (stamp, frozenset(self.errors(pieces)))
        return self._baseline[1]

    def issues(self, stamp, published: list[Piece], changed: list[Piece]) -> list[Issue]:
        """The errors the content would have with `changed` pieces instead of (or beside) the published ones
        and that the published content does not have; item-level parse errors first."""
        issues = []
        for piece in changed:
            try:
                item_data(piece.kind, piece.key, piece.text)
            except LayoutError as exc:
                issues.append(Issue(f"{piece.kind} {piece.key}: {exc}", piece.kind, piece.key))
        if issues:
            return issues
        replaced = {(p.kind, p.key) for p in changed}
        pieces = [p for p in published if (p.kind, p.key) not in replaced] + list(changed)
        known = self.baseline(stamp, published)
        return [_locate_any(message) for message in self.errors(pieces) if message not in known]


def _locate_any(message: str) -> Issue:
    if message.startswith("countries.txt: "):
        return Issue(message, COUNTRIES, "countries")
    if message.startswith("safety/danger_lexicon.yml"):
        section = re.search(r"section (\w+)", message)
        return Issue(message, DANGER, section.group(1) if section else None)
    return locate(message)


def _danger_errors(text: str | None) -> list[str]:
    """The danger lexicon must load as the bot loads it (bot/safety.py): every phrase compiles."""
    from ..safety import DangerLexicon

    if text is None:
        return ["safety/danger_lexicon.yml: missing"]
    try:
        DangerLexicon.from_yaml(text)
    except Exception as exc:  # noqa: BLE001 - any failure is an editor's error to show
        return [f"safety/danger_lexicon.yml: does not load: {exc}{_section_hint(text, exc)}"]
    return []


def _section_hint(text: str, exc: Exception) -> str:
    """Which top-level section holds the phrase an error quotes (the bot's loader does not say)."""
    quoted = re.findall(r"'([^']+)'", str(exc))
    if not quoted:
        return ""
    section = None
    for line in text.splitlines():
        top = re.match(r"^([A-Za-z_]\w*):", line)
        if top:
            section = top.group(1)
        elif section and any(q in line for q in quoted):
            return f" (section {section})"
    return ""
