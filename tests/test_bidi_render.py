"""Urdu replies drawn by a real implementation of the Unicode Bidirectional Algorithm (python-bidi), as a
right-to-left paragraph: every fact number, /command and URL must appear in its logical order on screen.

Without isolation "111-247-786" after Urdu text is drawn 786-247-111, "/help" is drawn help/ and the groups
of "0304 1112123" swap places. What is rendered: every Urdu reply and button of a conversation that visits
every topic, command, the offer check (both kinds, every answer) and the report form; every Urdu text of
content/ (topics, titles, the offer check, facts' wordings) and every Urdu catalog string; a sentence with
every fact value. Each goes through the Telegram renderer, the terminal chat and the staff console's HTML.

`python tests/test_bidi_render.py` prints how many Urdu replies and buttons are rendered.
"""
from __future__ import annotations

import asyncio
import html
import re
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest
from babel.messages.pofile import read_po
from bidi import get_display

from bot import console
from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import Content, ContentStore
from bot.dialogue.engine import Button, Dialogue, Reply
from tests.fakes import Conversations
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.telegram import render as telegram
from bot.text import has_rtl, isolate_html, strip_bidi
from bot.understanding import NLUResult, Understander

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'،۔)]*[^\s<>\"'،۔.,;:!?)]")
_DOMAIN = re.compile(r"(?<![\w/.@])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:pk|org|com|int|gov|net)(?:/[^\s،۔)]*[^\s،۔.,;:!?)])?")
_COMMAND = re.compile(r"(?<![\w/.:])/[a-z][a-z_]*")
_NUMBER = re.compile(r"(?<![\w.,-])\+?\d+(?:[-\s,./:]\d+)+")  # groups: 111-247-786, 0304 1112123, 15,000
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]")
SAMPLE_VALUE = "111-247-786"  # what a catalog placeholder is filled with


def facts(content: Content) -> list[str]:
    return [f.value for f in content.facts.values() if f.value]


def expected(text: str, fact_values: list[str]) -> list[str]:
    """What must stay in logical order: fact values, URLs, domains, /commands and grouped numbers."""
    found = [v for v in fact_values if v in text]
    for pattern in (_URL, _DOMAIN, _COMMAND, _NUMBER):
        found += [m.group(0).strip() for m in pattern.finditer(text)]
    return [f for f in dict.fromkeys(found) if f]


def visual(text: str) -> str:
    """The text as an RTL paragraph per line, in visual order, without the invisible controls."""
    return "\n".join(strip_bidi(get_display(line, base_dir="R")) for line in text.split("\n"))


def problems(logical: str, rendered: str, fact_values: list[str]) -> list[str]:
    shown = visual(rendered)
    return [f"{token!r} not in order in {shown!r}" for token in expected(logical, fact_values) if token not in shown]


# -- what is rendered ------------------------------------------------------------------------------------
def content_texts(content: Content, lang: str = "ur") -> list[str]:
    """Every text of content/ in `lang`, facts filled in; and a sentence quoting every fact value."""
    texts = []
    for topic_id in content.topics:
        texts += [content.answer(topic_id, lang), content.title(topic_id, lang)]
    for fact in content.facts.values():
        if fact.unconfirmed.get(lang):
            texts.append(fact.unconfirmed[lang])
        if fact.value:  # whether or not it is confirmed: the day an editor confirms it, it must show right
            texts.append(f"مدد کے لیے {fact.value} پر رابطہ کریں، یا /help لکھیں۔")

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get(lang), str):
                texts.append(content.render(node[lang], lang))
            for key, value in node.items():
                if key not in ("en", "ur", "ur-Latn", "prefill", "unsure_phrases", "answers", "sources"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(content.offer_check or {})
    return [t for t in dict.fromkeys(texts) if t and has_rtl(t)]


def catalog_texts(lang_dir: str = "ur") -> list[str]:
    """Every translated string of the Urdu catalogs, placeholders filled with a phone-number-like value."""
    texts = []
    for path in sorted((ROOT / "locales" / lang_dir / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
            texts += [_PLACEHOLDER.sub(SAMPLE_VALUE, s) for s in strings if s]
    return [t for t in dict.fromkeys(texts) if has_rtl(t)]


class _NLU:
    async def parse(self, text: str) -> NLUResult:
        return NLUResult("out_of_scope", 0.2, [("out_of_scope", 0.2), ("warning_signs", 0.1)], [], fallback=True)


def conversation_replies() -> list[Reply]:
    """Every reply of an Urdu user who visits every topic and command, runs the offer check for both kinds
    with every answer, and fills in the report form."""
    languages = LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")
    understander = Understander(_NLU(), languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                load_contract())
    store = ContentStore(ROOT / "content")
    dialogue = Conversations(Dialogue(understander, store, I18n(ROOT / "locales")))
    replies: list[Reply] = []

    def go(coro):
        turn = asyncio.run(coro)
        replies.extend(turn.replies)
        return turn

    user = "bidi"
    go(dialogue.handle_text(user, "/start"))
    go(dialogue.handle_button(user, "lang:ur"))
    for command in ("help", "language", "menu", "hotline", "privacy", "delete_me", "nonsense"):
        go(dialogue.handle_text(user, f"/{command}"))
    go(dialogue.handle_button(user, "lang:ur"))
    for topic_id in store.get().topics:
        go(dialogue.handle_button(user, f"topic:{topic_id}"))
    go(dialogue.handle_text(user, "کچھ سمجھ نہیں آیا"))
    go(dialogue.handle_text(user, "پھر بھی سمجھ نہیں آیا"))
    asked = go(dialogue.handle_text(user, "میرا کزن سرحد کے پاس لاپتہ ہے"))  # the danger question, numbers first
    assert any(b.payload == "dg:no" for r in asked.replies for row in r.buttons for b in row)
    go(dialogue.handle_button(user, "dg:no"))
    for kind in ("study", "job"):
        for value in ("yes", "no", "unsure"):
            go(dialogue.handle_text(user, "/check"))
            turn = go(dialogue.handle_button(user, f"oc:kind:{kind}"))
            for _ in range(40):
                payloads = [b.payload for r in turn.replies for row in r.buttons for b in row]
                question = next((p.split(":", 2)[2] for p in payloads if p.startswith(f"oc:{value}:")), None)
                if question is None:
                    break
                turn = go(dialogue.handle_button(user, f"oc:{value}:{question}"))
    go(dialogue.handle_text(user, "/check"))
    go(dialogue.handle_button(user, "oc:stop"))
    go(dialogue.handle_text(user, "/report"))
    for answer in ("ایجنٹ نے 3,00,000 روپے لیے اور غائب ہو گیا", "ABC Travels", "گلگت", "0300 1234567 پر 50,000"):
        go(dialogue.handle_text(user, answer))
    go(dialogue.handle_button(user, "rf:yes"))
    go(dialogue.handle_button(user, "rf:change"))
    go(dialogue.handle_button(user, "rf:cancel"))
    return [r for r in replies if r.language == "ur"]


def rendered(text: str) -> dict[str, str]:
    """The text as each channel shows it: Telegram (HTML, unescaped as the client does), the terminal chat
    and the staff console (escaped HTML with the bidi filter, as the templates render it)."""
    reply = Reply(text, (), "ur", True)
    return {"telegram": "\n".join(html.unescape(t) for t, _ in telegram.messages(reply)),
            "console": console.render([reply])[0].rstrip("\n"),
            "web": html.unescape(isolate_html(html.escape(text, quote=False)))}


def labels(replies: list[Reply]) -> list[str]:
    return list(dict.fromkeys(b.label for r in replies for row in r.buttons for b in row))


def collect() -> tuple[list[str], list[str], list[str]]:
    replies = conversation_replies()
    texts = list(dict.fromkeys([r.text for r in replies] + content_texts(ContentStore(ROOT / "content").get())
                               + catalog_texts()))
    return [r.text for r in replies], texts, labels(replies)


@pytest.fixture(scope="module")
def corpus():
    return collect()


def test_every_urdu_reply_and_button_keeps_numbers_commands_and_urls_in_order(corpus):
    conversation, texts, buttons = corpus
    fact_values = facts(ContentStore(ROOT / "content").get())
    assert len(conversation) > 100 and len(texts) > 300 and buttons, (len(conversation), len(texts), len(buttons))
    checked, failures = 0, []
    for text in texts:
        for channel, shown in rendered(text).items():
            found = problems(text, shown, fact_values)
            checked += bool(expected(text, fact_values))
            failures += [f"{channel}: {p}" for p in found]
    for label in buttons:
        shown = telegram.label(label)
        failures += [f"button: {p}" for p in problems(label, shown, fact_values)]
        menu = console.render([Reply("", ((Button(label, "x"),),), "ur", True)])[0]
        failures += [f"console button: {p}" for p in problems(label, menu.strip().removeprefix("[1] "), fact_values)]
    print(f"\nbidi: {len(texts)} Urdu texts ({len(conversation)} conversation replies) and {len(buttons)} Urdu buttons "
          f"rendered through Telegram, the terminal and the console; {checked} channel renderings hold numbers, "
          f"commands or URLs")
    assert checked > 100  # the check has something to check
    assert not failures, "\n".join(failures[:20]) + f"\n... {len(failures)} in all"


def test_the_hotline_number_is_drawn_backwards_without_isolation(corpus):
    """The check itself sees the bug: unisolated Urdu text fails it (the renderer before the fix)."""
    _conversation, texts, _ = corpus
    fact_values = facts(ContentStore(ROOT / "content").get())
    raw_failures = [t for t in texts if problems(t, t, fact_values)]
    hotline = [t for t in texts if "111-247-786" in t]
    broken = [t for t in hotline if problems(t, t, fact_values)]
    assert len(broken) * 2 > len(hotline), (len(broken), len(hotline))  # most: after a Latin word it happens to hold
    assert "786-247-111" in visual("ہیلپ لائن 111-247-786 پر کال کریں")
    assert len(raw_failures) > 50, len(raw_failures)
    print(f"\nwithout isolation: {len(raw_failures)} of {len(texts)} Urdu texts drawn wrong, {len(broken)} of the "
          f"{len(hotline)} with the FIA hotline number")


def test_stored_text_stays_clean_and_latin_messages_are_untouched():
    english = Reply("Call the FIA hotline 111-247-786 or type /help; see https://beoe.gov.pk", (), "en", False)
    assert telegram.messages(english)[0][0] == html.escape(english.text, quote=False)
    assert console.render([english])[0].strip() == english.text
    roman = "FIA hotline 111-247-786 par call karein"
    assert telegram.to_html(roman) == roman
    urdu = "ایف آئی اے ہیلپ لائن 111-247-786 پر کال کریں <b> & /help"
    reply = Reply(urdu, ((Button("ہیلپ لائن 1122", "topic:x"),),), "ur", True)
    text, markup = telegram.messages(reply)[0]
    assert "\u2066111-247-786\u2069" in text and "&lt;\u2066b\u2069&gt; &amp; \u2066/help\u2069" in text
    assert strip_bidi(html.unescape(text)) == urdu  # isolated, then escaped: text is text, never markup
    assert markup.inline_keyboard[0][0].text == "ہیلپ لائن \u20661122\u2069"
    assert markup.inline_keyboard[0][0].callback_data == "topic:x"
    assert reply.text == urdu  # the reply (what is stored) is not changed


def test_html_markup_and_entities_are_never_isolated():
    markup = '<b>سیف سفر</b> کیس 12-3 &amp; <a href="https://x.pk/1">لنک 111-247-786</a>'
    out = isolate_html(markup)
    assert strip_bidi(out) == markup
    assert '<a href="https://x.pk/1">' in out and "&amp;" in out and "\u206612-3\u2069" in out


@pytest.mark.parametrize("text, run", [
    ("ہیلپ لائن 111-247-786 پر", "111-247-786"),
    ("نمبر 0304 1112123 ہے", "0304 1112123"),
    ("فیس Rs. 15,000 ہے", "Rs. 15,000"),
    ("مدد کے لیے /help لکھیں", "/help"),
    ("ویب سائٹ https://beoe.gov.pk/list?a=1. دیکھیں", "https://beoe.gov.pk/list?a=1"),
    ("ای میل cmu1@mofa.gov.pk پر", "cmu1@mofa.gov.pk"),
    ("کال +92 300 1234567 پر", "+92 300 1234567"),
    ("اوورسیز Overseas Employment Promoter کا", "Overseas Employment Promoter"),
    ("سوال ۱۲-۳ ہے", "۱۲-۳"),
])
def test_isolated_runs(text, run):
    from bot.text import isolate_ltr

    out = isolate_ltr(text)
    assert f"\u2066{run}\u2069" in out and strip_bidi(out) == text
    assert run in visual(out) and isolate_ltr(out) == out  # isolating twice changes nothing


if __name__ == "__main__":
    conversation, texts, buttons = collect()
    print(f"{len(texts)} Urdu texts rendered ({len(conversation)} replies of the Urdu conversation, the rest from "
          f"content/ and the catalogs), {len(buttons)} Urdu buttons")
