"""Translators' PO files (bot/web/translation.py, Babel): export one language, all or only the missing texts,
and read them back."""
from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
import io

from bot.dialogue.content import Content
from bot.web import translation

ROOT = Path(__file__).resolve().parent.parent
CONTENT = Content(ROOT / "content")


def _without_urdu(content: Content, topic_id: str) -> Content:
    draft = copy.copy(content)
    topic = content.topics[topic_id]
    draft.topics = {**content.topics, topic_id: dataclasses.replace(topic, answer={k: v for k, v in topic.answer.items()
                                                                             if k != "ur"})}
    return draft


def test_export_holds_every_text_with_its_translation_and_reads_back_unchanged():
    items = translation.texts(CONTENT, "ur")
    assert {i.context.split("/")[0] for i in items} == {"topic", "fact"}
    data = translation.export_po(items, "ur")
    catalog = read_po(io.BytesIO(data))
    assert catalog.locale_identifier == "ur"
    assert len([m for m in catalog if m.id]) == len(items)
    found, skipped = translation.import_po(data, {i.context: i for i in items})
    assert skipped == [] and found == {i.context: i.target for i in items if i.target}


def test_missing_only_exports_the_untranslated_texts():
    content = _without_urdu(CONTENT, "abroad_in_trouble")
    items = translation.texts(content, "ur")
    data = translation.export_po(items, "ur", missing_only=True)
    contexts = [m.context for m in read_po(io.BytesIO(data)) if m.id]
    assert contexts == ["topic/abroad_in_trouble/answer"]


def test_import_takes_translations_and_leaves_out_fuzzy_unknown_and_changed_sources():
    content = _without_urdu(CONTENT, "abroad_in_trouble")
    items = translation.texts(content, "ur")
    known = {i.context: i for i in items}
    catalog = read_po(io.BytesIO(translation.export_po(items, "ur", missing_only=True)))
    message = catalog.get(CONTENT.topics["abroad_in_trouble"].answer["en"], context="topic/abroad_in_trouble/answer")
    message.string = "نیا ترجمہ"
    catalog.add("Old English", "پرانا", context="topic/greet/answer")  # its English text changed since
    catalog.add("x", "y", context="topic/no_such/answer")
    catalog.add("fuzzy one", "z", context="topic/greet/title", flags=["fuzzy"])
    out = io.BytesIO()
    from babel.messages.pofile import write_po
    write_po(out, catalog)
    found, skipped = translation.import_po(out.getvalue(), known)
    assert found == {"topic/abroad_in_trouble/answer": "نیا ترجمہ"}
    assert sorted(skipped) == ["topic/greet/answer: the English text changed since the export",
                               "topic/greet/title: fuzzy", "topic/no_such/answer: unknown"]


def test_a_broken_file_is_refused():
    with pytest.raises(translation.PoError):
        translation.import_po(b'msgid "a"\nmsgstr "b\n\nmsgid \n')
