"""Translators' files: one language's texts as a PO file (Babel's catalog and pofile), every text or only the
missing ones, and the file read back. Each entry's context (msgctxt) names the item and field
("topic/<id>/answer", "fact/<id>/unconfirmed"), its msgid is the English text, its msgstr the text in the
language (empty when missing). What comes back is turned into drafts by the workbench (nothing is
published by an import)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from ..dialogue.content import Content

SOURCE = "en"
TOPIC_FIELDS = ("title", "answer", "more")


@dataclass(frozen=True)
class Text:
    context: str  # "topic/<id>/<field>" or "fact/<id>/unconfirmed"
    source: str  # the English text
    target: str  # the text in the language ("" when missing)


def texts(content: Content, language: str) -> list[Text]:
    """Every translatable text of the content snapshot: topics' titles, answers and details, and facts'
    unconfirmed wording."""
    out = []
    for topic in sorted(content.topics.values(), key=lambda t: t.id):
        for name in TOPIC_FIELDS:
            values = getattr(topic, name)
            if values.get(SOURCE):
                out.append(Text(f"topic/{topic.id}/{name}", values[SOURCE], values.get(language, "")))
    for fact in sorted(content.facts.values(), key=lambda f: f.id):
        if fact.unconfirmed.get(SOURCE):
            out.append(Text(f"fact/{fact.id}/unconfirmed", fact.unconfirmed[SOURCE],
                            fact.unconfirmed.get(language, "")))
    return out


def export_po(items: list[Text], language: str, missing_only: bool = False, now: datetime | None = None) -> bytes:
    """A PO file of `items` for translators into `language` (only the untranslated ones if missing_only)."""
    catalog = Catalog(locale=language.replace("-", "_"), project="SafeSafar content", copyright_holder="SafeSafar",
                      fuzzy=False,
                      creation_date=now, revision_date=now)
    for item in items:
        if missing_only and item.target.strip():
            continue
        catalog.add(item.source, item.target, context=item.context)
    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False, sort_output=False)
    return out.getvalue()


class PoError(ValueError):
    pass


def import_po(data: bytes, known: dict[str, Text] | None = None) -> tuple[dict[str, str], list[str]]:
    """The translated texts of a PO file, {context: text}, and what was left out and why: untranslated or
    fuzzy entries, entries without a context, contexts that `known` (context -> Text) does not hold, or
    whose English text changed since the export (the translation may no longer fit)."""
    try:
        catalog = read_po(io.BytesIO(data), abort_invalid=True)
    except Exception as exc:  # noqa: BLE001 - Babel raises several kinds for a broken file
        raise PoError(str(exc)) from exc
    found: dict[str, str] = {}
    skipped: list[str] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        context = message.context or ""
        text = message.string if isinstance(message.string, str) else ""
        if not context:
            skipped.append(f"{message.id[:40]!r}: no context")
        elif not text.strip():
            continue
        elif message.fuzzy:
            skipped.append(f"{context}: fuzzy")
        elif known is not None and context not in known:
            skipped.append(f"{context}: unknown")
        elif known is not None and known[context].source.strip() != message.id.strip():
            skipped.append(f"{context}: the English text changed since the export")
        else:
            found[context] = text.strip()
    return found, skipped
