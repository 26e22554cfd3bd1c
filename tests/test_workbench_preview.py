"""The workbench's preview (bot/web/preview.py): the bot's own dialogue and Telegram renderer on an editor's
draft, the word count of `content check`. Pure: content/ from the files, no database."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue import content_check
from bot.dialogue.content import Content
from bot.dialogue.engine import Button, Reply
from bot.telegram import render
from bot.text import LRI, PDI
from bot.web import preview

ROOT = Path(__file__).resolve().parent.parent
CONTENT = Content(ROOT / "content")
TOPIC = "abroad_in_trouble"


def test_an_urdu_draft_is_shown_isolated_with_its_buttons_and_footer():
    text = "نیا جواب: 111-247-786 پر کال کریں۔"
    draft = {"id": TOPIC, "answer": {**CONTENT.topics[TOPIC].answer, "ur": text}}
    shown = preview.preview_topic(CONTENT, draft, "ur")
    assert shown.rtl and len(shown.answer) == 1
    first = shown.answer[0]
    assert first.html.startswith(f"نیا جواب: {LRI}111-247-786{PDI} پر کال کریں۔")
    # the bot's own reply: its footer (review date) and its keyboard, labels in Urdu
    assert "\n\n" in first.html and first.buttons and first.buttons[0][0] == "مزید"
    assert shown.words == content_check.words(text) == 6 and not shown.over
    # the published answers in the other languages are untouched by the draft
    english = preview.preview_topic(CONTENT, draft, "en")
    assert english.answer[0].html.startswith(render.to_html(CONTENT.answer(TOPIC, "en")))


def test_the_preview_is_what_the_renderer_sends():
    shown = preview.preview_topic(CONTENT, CONTENT.topics[TOPIC], "ur-Latn")
    # what the Telegram front end would send for the same reply
    from bot.dialogue.engine import Dialogue
    from bot.dialogue.state import ConversationState
    from bot.i18n import I18n
    import asyncio

    state = ConversationState(user="x", language="ur-Latn", language_chosen=True)
    turn = asyncio.run(Dialogue(None, preview._Snapshot(CONTENT), I18n()).process_button(state, f"topic:{TOPIC}"))
    sent = [html for reply in turn.replies for html, _m in render.messages(reply)]
    assert [m.html for m in shown.answer] == sent
    assert shown.more and "{fact:" not in shown.more[0].html


def test_over_the_limit_is_counted_and_long_text_is_split():
    long = " ".join(["word"] * (content_check.MAX_WORDS + 5))
    shown = preview.preview_topic(CONTENT, {"id": TOPIC, "answer": {"en": long}}, "en")
    assert shown.words == content_check.MAX_WORDS + 5 and shown.over
    huge = ("This is one sentence. " * 400).strip()
    split = preview.preview_topic(CONTENT, {"id": TOPIC, "answer": {"en": huge}}, "en")
    assert len(split.answer) >= 2 and all(m.chars <= render.LIMIT for m in split.answer)
    assert not split.answer[0].buttons and split.answer[-1].buttons


def test_markup_in_a_draft_is_escaped_never_trusted():
    shown = preview.preview_topic(CONTENT, {"id": TOPIC, "answer": {"en": "<script>alert(1)</script> & <b>x</b>"}},
                                  "en")
    markup = str(shown.answer[0].markup)
    assert "<script>" not in markup and "&lt;script&gt;" in markup and "&amp;" in markup
    assert str(preview.Message("<b>x</b>").markup) == "&lt;b&gt;x&lt;/b&gt;"


def test_missing_translation_and_unknown_fact_are_flagged():
    topic = CONTENT.topics[TOPIC]
    draft = {"id": TOPIC, "answer": {"en": topic.answer["en"], "ur": "", "ur-Latn": "Call {fact:no_such_fact}"}}
    urdu = preview.preview_topic(CONTENT, draft, "ur")
    assert "answer" in urdu.missing
    roman = preview.preview_topic(CONTENT, draft, "ur-Latn")
    assert roman.errors == ["unknown fact {fact:no_such_fact}"]
    with pytest.raises(ValueError):
        preview.preview_topic(CONTENT, draft, "xx")


def test_a_fact_under_review_shows_its_unconfirmed_wording_where_it_is_used():
    fact = next(f for f in CONTENT.facts.values() if f.needs_review and f.unconfirmed)
    uses = preview.fact_uses(CONTENT, fact.id)
    assert uses and all(f"{{fact:{fact.id}}}" in getattr(CONTENT.topics[t], field)[lang] for t, field, lang in uses)
    shown = preview.fact_shown(CONTENT, fact, "en")
    assert shown.html == render.to_html(CONTENT.pick(fact.unconfirmed, "en"))
    if fact.value:
        assert fact.value not in shown.html
