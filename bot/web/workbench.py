"""The workbench's topics list: each topic's state per language as the console shows it (published, a draft
waiting for review, needs review with its placeholders, a review date older than a year, a missing
translation, a first message over content check's word limit), the filters and the search over the texts.
Computed from a content snapshot (bot/dialogue/content.py) and content check's word count; the drafts
waiting come from the editorial store. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..dialogue import content_check
from ..dialogue.content import Content, Topic
from .i18n import L_

FIELDS = ("title", "answer", "more")
# the flags a topic or one of its languages can carry, in the order the list shows them
FLAGS = {
    "draft": L_("Draft waiting for review"),
    "needs_review": L_("Needs review"),
    "old_review": L_("Reviewed over a year ago"),
    "missing": L_("Missing translation"),
    "too_long": L_("First message too long"),
    "published": L_("Published"),
}
FILTERS = ("draft", "needs_review", "old_review", "missing", "too_long")


@dataclass
class LanguageState:
    language: str
    words: int
    missing: list[str] = field(default_factory=list)  # fields without text in this language

    @property
    def too_long(self) -> bool:
        return self.words > content_check.MAX_WORDS


@dataclass
class TopicRow:
    id: str
    title: str
    languages: list[LanguageState]
    needs_review: bool
    placeholders: list[str]
    reviewed: date | None
    old_review: bool
    draft: bool = False  # a draft of it waits for review

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.draft:
            flags.append("draft")
        if self.needs_review:
            flags.append("needs_review")
        if self.old_review:
            flags.append("old_review")
        if any(s.missing for s in self.languages):
            flags.append("missing")
        if any(s.too_long for s in self.languages):
            flags.append("too_long")
        return flags or ["published"]


def missing_fields(topic: Topic, language: str) -> list[str]:
    """The fields of the topic that have text in some language but none in `language`."""
    return [name for name in FIELDS if getattr(topic, name) and not str(getattr(topic, name).get(language) or "").strip()]


def topic_row(content: Content, topic: Topic, today: date, language: str = "en", drafts: set[str] = frozenset()) -> TopicRow:
    states = []
    for code in content.languages:
        words = content_check.words(content.render(topic.answer.get(code, ""), code))
        states.append(LanguageState(code, words, missing_fields(topic, code)))
    return TopicRow(id=topic.id, title=content.title(topic.id, language), languages=states,
                    needs_review=topic.needs_review, placeholders=[str(p) for p in topic.placeholders],
                    reviewed=topic.reviewed,
                    old_review=topic.reviewed is None or topic.reviewed < today - timedelta(days=365),
                    draft=topic.id in drafts)


def _matches(topic: Topic, query: str) -> bool:
    """The search: every word of the query somewhere in the topic's id, titles, answers, details or keywords
    (case-insensitive, any language)."""
    texts = [topic.id, *topic.intents]
    for name in FIELDS:
        texts += [str(v) for v in getattr(topic, name).values()]
    texts += [w for words in topic.keywords.values() for w in words]
    haystack = "\n".join(texts).casefold()
    return all(word in haystack for word in query.casefold().split())


def topic_rows(content: Content, today: date, language: str = "en", drafts: set[str] = frozenset(),
               flag: str = "", query: str = "") -> list[TopicRow]:
    """The list: every topic (by id), only those carrying `flag` (one of FILTERS) and matching `query`."""
    rows = []
    for topic in sorted(content.topics.values(), key=lambda t: t.id):
        if query.strip() and not _matches(topic, query):
            continue
        row = topic_row(content, topic, today, language, drafts)
        if flag and flag not in row.flags:
            continue
        rows.append(row)
    return rows


# -- the topic editor's form ------------------------------------------------------------------------------
# Field names are lower-case letters and underscores (the security tests post every one): a language's code
# becomes its key ("ur-Latn" -> "ur_latn").

def field_key(language: str) -> str:
    return language.replace("-", "_").lower()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    """A comma-separated list; a word with spaces at its ends (" hr ") or a comma is in double quotes."""
    import csv

    rows = list(csv.reader([" ".join((text or "").splitlines())], skipinitialspace=True))
    return [w if w != w.strip() else w.strip() for w in (rows[0] if rows else []) if w.strip()]


def _join(words) -> str:
    def quote(w: str) -> str:
        return '"' + w.replace('"', '""') + '"' if w != w.strip() or "," in w or '"' in w else w
    return ", ".join(quote(str(w)) for w in words)


SOURCE_KEYS = ("publisher", "title", "url", "published")


def topic_form(topic: Topic | None, languages) -> dict[str, str]:
    """The editor's fields for a topic (empty for a new one)."""
    form: dict[str, str] = {}
    if topic is None:
        return form
    for code in languages:
        key = field_key(code)
        for name in FIELDS:
            form[f"{name}_{key}"] = getattr(topic, name).get(code, "")
        form[f"keywords_{key}"] = _join(topic.keywords.get(code, []))
    form["intents"] = _join(topic.intents)
    form["buttons"] = "\n".join(f"topic: {b['topic']}" if "topic" in b else f"action: {b.get('action', '')}"
                                for b in topic.buttons)
    form["sources"] = "\n".join(" | ".join(str(s.get(k) or "") for k in SOURCE_KEYS).rstrip(" |")
                                for s in topic.sources)
    form["placeholders"] = "\n".join(str(p) for p in topic.placeholders)
    form["reviewed"] = topic.reviewed.isoformat() if topic.reviewed else ""
    form["menu"] = "" if topic.menu is None else str(topic.menu)
    form["needs_review"] = "1" if topic.needs_review else ""
    return form


def topic_data(topic_id: str, form: dict[str, str], languages) -> tuple[dict, dict[str, list[str]]]:
    """The topic as data (the YAML document's fields) from the editor's form, and the form's own errors by
    field (a button line or a source line that does not parse, a date that is not one). Empty texts are
    left out: a missing translation stays missing."""
    errors: dict[str, list[str]] = {}
    data: dict = {"id": topic_id}
    for name in ("title", "answer", "more"):
        texts = {code: form.get(f"{name}_{field_key(code)}", "").replace("\r\n", "\n").strip() for code in languages}
        texts = {k: v for k, v in texts.items() if v}
        if texts:
            data[name] = texts
    keywords = {code: _words(form.get(f"keywords_{field_key(code)}", "")) for code in languages}
    keywords = {k: v for k, v in keywords.items() if v}
    if keywords:
        data["keywords"] = keywords
    data["intents"] = _words(form.get("intents", ""))
    buttons = []
    for line in _lines(form.get("buttons", "")):
        kind, _sep, value = line.partition(":")
        if kind.strip() in ("topic", "action") and value.strip():
            buttons.append({kind.strip(): value.strip()})
        else:
            errors.setdefault("buttons", []).append(f"{line!r}: write “topic: ID” or “action: NAME”")
    data["buttons"] = buttons
    sources = []
    for line in _lines(form.get("sources", "")):
        parts = [p.strip() for p in line.split("|")]
        given = {k: v for k, v in zip(SOURCE_KEYS, parts) if v}
        source = {k: given[k] for k in ("title", "publisher", "url", "published") if k in given}  # the files' order
        if source.get("published"):
            try:
                source["published"] = date.fromisoformat(source["published"])
            except ValueError:
                pass
        if len(parts) > len(SOURCE_KEYS) or not source.get("publisher") or not source.get("title"):
            errors.setdefault("sources", []).append(f"{line!r}: write “publisher | title | link | date”")
        sources.append(source)
    data["sources"] = sources
    reviewed = form.get("reviewed", "").strip()
    if reviewed:
        try:
            data["reviewed"] = date.fromisoformat(reviewed)
        except ValueError:
            errors.setdefault("reviewed", []).append(f"{reviewed!r}: a date like 2026-12-05")
    menu = form.get("menu", "").strip()
    if menu:
        if menu.isascii() and menu.isdigit() and len(menu) < 6:
            data["menu"] = int(menu)
        else:
            errors.setdefault("menu", []).append(f"{menu!r}: a number")
    data["needs_review"] = form.get("needs_review") == "1"
    placeholders = _lines(form.get("placeholders", ""))
    if placeholders:
        data["placeholders"] = placeholders
    return data, errors
