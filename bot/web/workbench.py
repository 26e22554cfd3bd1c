"""The workbench's topics list as the console shows it (the states come from the editorial domain's
Workbench.topic_overview: published, a working change, needs review, a review date older than a year, a
missing translation, a first message over content check's word limit), its filters and search; and the
topic editor's form, to and from the topic's data. Pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
    too_long: bool = False


@dataclass
class TopicRow:
    """A row of the list: the editorial domain's TopicStatus (Workbench.topic_overview) as the page shows it."""
    id: str
    title: str
    languages: list[LanguageState]
    needs_review: bool
    placeholders: list[str]
    reviewed: str | None
    old_review: bool
    draft: bool = False  # a working change of it (draft or waiting for review)

    @property
    def flags(self) -> list[str]:
        flags = [name for name, on in (("draft", self.draft), ("needs_review", self.needs_review),
                                       ("old_review", self.old_review),
                                       ("missing", any(s.missing for s in self.languages)),
                                       ("too_long", any(s.too_long for s in self.languages))) if on]
        return flags or ["published"]


def missing_fields(topic: Topic, language: str) -> list[str]:
    """The fields of the topic that have text in some language but none in `language`."""
    return [name for name in FIELDS if getattr(topic, name) and not str(getattr(topic, name).get(language) or "").strip()]


def topic_rows(statuses, content: Content, languages, language: str = "en", flag: str = "", query: str = ""
               ) -> list[TopicRow]:
    """The list from the domain's overview: only the topics carrying `flag` (one of FILTERS) and whose texts
    (any language) contain every word of `query`, by id. `content` gives the titles in the interface's
    language and the placeholders' notes."""
    rows = []
    words = query.casefold().split()
    for status in sorted(statuses, key=lambda s: s.key):
        if words and not all(w in f"{status.key}\n{status.text}".casefold() for w in words):
            continue
        topic = content.topics.get(status.key)
        row = TopicRow(id=status.key, title=content.title(status.key, language) if topic else status.title,
                       languages=[LanguageState(code, status.words.get(code, 0), status.missing.get(code, []),
                                                code in status.over_limit) for code in languages],
                       needs_review=status.needs_review, placeholders=[str(p) for p in topic.placeholders] if topic else [],
                       reviewed=status.reviewed, old_review=status.review_overdue,
                       draft=status.head_status in ("draft", "pending"))
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
