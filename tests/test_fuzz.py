"""Fuzzing the text entry points with Hypothesis: the understanding of a message (with a fake NLU), the
dialogue turn, and the Telegram renderer and splitter. Properties: no exception; the output is valid
UTF-8; every Telegram message is under 4,096 characters; nothing is lost or duplicated.

Examples per test: the Hypothesis profile (tests/conftest.py): "dev" by default (quick), "ci" (10,000
each) when CI is set or with HYPOTHESIS_PROFILE=ci."""
from __future__ import annotations

import asyncio
import json
import re

from hypothesis import given, strategies as st

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Button, Dialogue, Reply
from bot.dialogue.state import ConversationState
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.telegram.render import LIMIT, messages, split_text, to_html
from bot.text import strip_bidi
from bot.understanding import NLUResult, Understander
from tests.fakes import KeywordNLU

CONTRACT = load_contract()
LANGUAGES = LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")
DANGER = DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml")
RULES = {"locked": "emergency", "trafficking": "define_trafficking", "person": "ask_human", "report": "report_suspect",
         "agent": "verify_agent", "job": "check_job_offer", "visa": "visa_rules", "yes": "affirm", "fee": "agent_fees"}

# what users type: any Unicode, and the characters that matter here in quantity (Urdu and Arabic letters,
# bidi and zero-width controls, HTML's special characters, white space, emoji, digits)
SPECIAL = ("\u0627\u0628\u067e\u062a\u06cc\u06a9\u06c1\u0654\u064a\u0643\u0647\u064b\u0670\u06d4\u061f"
           "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202e\u2066\u2067\u2069\ufeff\u00ad"
           "<>&\"' \n\t\r.!?/@:_-0123456789\U0001F600\U0001F1F5\U0001F1F0")
WORDS = ["/start", "/check", "/report", "/help", "/language", "/menu", "/hotline", "/privacy", "/delete_me",
         "hello", "salam", "job in dubai", "agent", "visa", "fee 500000 rupees", "locked in a room", "yes", "no",
         "report", "person", "\u0645\u062c\u06be\u06d2 \u0645\u062f\u062f \u0686\u0627\u06c1\u06cc\u06d2",
         "mujhe agent ne paise liye", "trafficking kya hai", "1", "2"]
TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from(SPECIAL), max_size=300),
    st.lists(st.sampled_from(WORDS + list(SPECIAL)), max_size=40).map(" ".join),
    st.builds(lambda word, n: word * n, st.sampled_from(WORDS + ["a", "\u0627", "&", " "]), st.integers(1, 1500)),
)


def utf8(text: str) -> str:
    text.encode("utf-8")  # raises on a lone surrogate
    return text


class SpanNLU:
    """An NLU that also reports an entity over a part of whatever text it gets (offsets are mapped back
    onto the user's text by the understanding)."""

    def __init__(self):
        self.keywords = KeywordNLU(RULES)

    async def parse(self, text: str) -> NLUResult:
        result = await self.keywords.parse(text)
        third = len(text) // 3
        entities = [{"entity": "country", "value": text[third:third * 2 + 1], "start": third, "end": third * 2 + 1},
                    {"entity": "amount", "value": "500000", "start": 0, "end": len(text)}]
        return NLUResult(result.intent, result.confidence, result.ranking, entities, result.fallback)


UNDERSTANDER = Understander(SpanNLU(), LANGUAGES, DANGER, CONTRACT)
LOOP = asyncio.new_event_loop()  # one loop for every example: asyncio.run would cost more than the turn


@given(TEXT)
def test_understand_any_text(text):
    result = LOOP.run_until_complete(UNDERSTANDER.understand(text))
    assert result.text == text
    assert result.language in ("en", "ur", "ur-Latn")
    assert result.intent is None or result.intent in CONTRACT.intents
    assert result.priority in (None, "urgent", "high", "normal")
    for entity in result.entities:
        assert 0 <= entity["start"] <= entity["end"] <= len(text)
    utf8(json.dumps(result.as_contract_dict(), ensure_ascii=False))


DIALOGUE = Dialogue(Understander(KeywordNLU(RULES), LANGUAGES, DANGER, CONTRACT), ContentStore(ROOT / "content"),
                    I18n(ROOT / "locales"))


def _check_telegram(reply: Reply) -> None:
    parts = messages(reply)
    assert parts
    for html_text, _ in parts:
        assert len(utf8(html_text)) <= LIMIT


STEP = st.one_of(st.tuples(st.just("text"), TEXT),
                 st.tuples(st.just("press"), st.integers(0, 50)),  # the n-th button of the last replies
                 st.tuples(st.just("payload"), st.text(max_size=80)))  # a forged button press


@given(st.lists(STEP, min_size=1, max_size=6))
def test_dialogue_turns_on_any_input(steps):
    state = ConversationState("fuzz")
    buttons: list[Button] = []
    for kind, value in steps:
        if kind == "text":
            turn = LOOP.run_until_complete(DIALOGUE.process_text(state, value))
        else:
            payload = buttons[value % len(buttons)].payload if kind == "press" and buttons else str(value)
            turn = LOOP.run_until_complete(DIALOGUE.process_button(state, payload))
        if state.data.get("erased"):
            state = ConversationState("fuzz")
        assert turn.replies, "every turn answers"
        buttons = [b for reply in turn.replies for row in reply.buttons for b in row]
        for reply in turn.replies:
            assert reply.text.strip()
            utf8(reply.text)
            for button in (b for row in reply.buttons for b in row):
                utf8(button.label), utf8(button.payload)
            _check_telegram(reply)


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


@given(TEXT, st.integers(20, LIMIT))
def test_split_keeps_every_character_once_and_fits(text, limit):
    pieces = split_text(text, limit)
    for piece in pieces:
        assert piece and len(utf8(to_html(piece))) <= limit
    assert _no_space("".join(pieces)) == _no_space(text)  # nothing lost, nothing twice, in order


@given(TEXT, st.lists(st.lists(st.tuples(st.text(max_size=80), st.text(max_size=80)), max_size=3), max_size=4),
       st.booleans())
def test_render_any_reply(text, rows, rtl):
    reply = Reply(text, tuple(tuple(Button(label, payload) for label, payload in row) for row in rows), rtl=rtl)
    parts = messages(reply)
    assert len(parts) >= 1 and all(markup is None for _, markup in parts[:-1])  # the keyboard once, last
    for html_text, _ in parts:
        assert len(utf8(html_text)) <= LIMIT
    markup = parts[-1][1]
    kept = [b for row in (markup.inline_keyboard if markup else ()) for b in row]
    wanted = [b for row in reply.buttons for b in row if len(b.payload.encode()) <= 64]
    # every button that fits Telegram's callback limit, in order, its label (isolated for display) intact
    assert [(strip_bidi(b.text), b.callback_data) for b in kept] == [(strip_bidi(b.label[:64]), b.payload)
                                                                     for b in wanted]
