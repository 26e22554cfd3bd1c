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
    form["sources"] = sources_form(topic.sources)
    form["placeholders"] = "\n".join(str(p) for p in topic.placeholders)
    form["reviewed"] = topic.reviewed.isoformat() if topic.reviewed else ""
    form["menu"] = "" if topic.menu is None else str(topic.menu)
    form["needs_review"] = "1" if topic.needs_review else ""
    return form


ORDER = ("id", "intents", "keywords", "menu", "title", "answer", "more", "buttons", "sources", "reviewed",
         "needs_review", "placeholders")  # the files' order of a topic's keys


def sources_form(sources) -> str:
    return "\n".join(" | ".join(str(s.get(k) or "") for k in SOURCE_KEYS).rstrip(" |") for s in sources or [])


def sources_data(text: str, errors: dict, name: str = "sources") -> list[dict]:
    sources = []
    for line in _lines(text):
        parts = [p.strip() for p in line.split("|")]
        given = {k: v for k, v in zip(SOURCE_KEYS, parts) if v}
        source = {k: given[k] for k in ("title", "publisher", "url", "published") if k in given}  # the files' order
        if source.get("published"):
            try:
                source["published"] = date.fromisoformat(source["published"])
            except ValueError:
                pass
        if len(parts) > len(SOURCE_KEYS) or not source.get("publisher") or not source.get("title"):
            errors.setdefault(name, []).append(f"{line!r}: write “publisher | title | link | date”")
        sources.append(source)
    return sources


def date_data(text: str, errors: dict, name: str = "reviewed") -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.setdefault(name, []).append(f"{text!r}: a date like 2026-12-05")
        return None


def _put(data: dict, key: str, value) -> None:
    """Set a key, or remove it when the value is empty (None, "", [], {}); a key the document has with an
    empty list or mapping (`sources: []`) stays as it is."""
    if value is None or value == "" or value == [] or value == {}:
        if not (isinstance(data.get(key), (list, dict)) and not data[key]):
            data.pop(key, None)
    else:
        data[key] = value


def topic_data(topic_id: str, form: dict[str, str], languages, base: dict | None = None
               ) -> tuple[dict, dict[str, list[str]]]:
    """The topic as data (the YAML document's fields) from the editor's form over `base` (the version the
    editor started from: keys the form does not show are kept, in their order), and the form's own errors by
    field (a button line or a source line that does not parse, a date that is not one). Empty texts are left
    out: a missing translation stays missing."""
    errors: dict[str, list[str]] = {}
    data: dict = dict(base) if isinstance(base, dict) else {}
    data["id"] = topic_id
    values: dict = {}
    for name in ("title", "answer", "more"):
        texts = {code: form.get(f"{name}_{field_key(code)}", "").replace("\r\n", "\n").strip() for code in languages}
        values[name] = {k: (v + "\n" if "\n" in v else v) for k, v in texts.items() if v}
    keywords = {code: _words(form.get(f"keywords_{field_key(code)}", "")) for code in languages}
    values["keywords"] = {k: v for k, v in keywords.items() if v}
    values["intents"] = _words(form.get("intents", ""))
    buttons = []
    for line in _lines(form.get("buttons", "")):
        kind, _sep, value = line.partition(":")
        if kind.strip() in ("topic", "action") and value.strip():
            buttons.append({kind.strip(): value.strip()})
        else:
            errors.setdefault("buttons", []).append(f"{line!r}: write “topic: ID” or “action: NAME”")
    values["buttons"] = buttons
    values["sources"] = sources_data(form.get("sources", ""), errors)
    values["reviewed"] = date_data(form.get("reviewed", ""), errors)
    menu = form.get("menu", "").strip()
    values["menu"] = None
    if menu:
        if menu.isascii() and menu.isdigit() and len(menu) < 6:
            values["menu"] = int(menu)
        else:
            errors.setdefault("menu", []).append(f"{menu!r}: a number")
    values["needs_review"] = True if form.get("needs_review") == "1" else (False if "needs_review" in data else None)
    values["placeholders"] = _lines(form.get("placeholders", ""))
    for key in ORDER[1:]:
        _put(data, key, values[key])
    # keys new to the document go where the files have them
    ordered = {k: data[k] for k in ORDER if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    if isinstance(base, dict):  # the base's own order first, new keys after
        ordered = {**{k: ordered[k] for k in base if k in ordered}, **ordered}
    return ordered, errors
