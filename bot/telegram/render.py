"""Turning dialogue replies into Telegram messages: HTML-escaped text, split under Telegram's 4,096
character limit at sentence boundaries, buttons as inline keyboards. In right-to-left (Urdu) text every
number, command, URL and Latin-script run is bidi-isolated (bot.text.isolate_ltr) in the text nodes, before
HTML escaping, so that markup and entities are never touched. Pure: no network."""
from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..dialogue.engine import Reply
from ..text import has_rtl, isolate_ltr

LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
_SENTENCE_END = re.compile(r"(?<=[.!?؟۔])\s+|\n")


def split_text(text: str, limit: int = LIMIT, rtl: bool | None = None) -> list[str]:
    """Pieces of at most `limit` characters once rendered (isolated and HTML-escaped), cut after a sentence
    or a line where possible, else at a space, never inside a word unless a single word is longer than the
    limit. `rtl`: whether the whole message is right-to-left (None: decided from `text`)."""
    pieces: list[str] = []
    rest = text.strip()
    rtl = has_rtl(text) if rtl is None else rtl
    while rest:
        if len(to_html(rest, rtl)) <= limit:
            pieces.append(rest)
            break
        # the longest prefix whose escaped form fits (binary search: escaping only lengthens)
        low, high = 1, min(len(rest), limit)
        while low < high:
            mid = (low + high + 1) // 2
            if len(to_html(rest[:mid], rtl)) <= limit:
                low = mid
            else:
                high = mid - 1
        size = low
        window = rest[:size]
        cut = max((m.end() for m in _SENTENCE_END.finditer(window)), default=0)
        if cut < size // 3:
            space = window.rfind(" ")
            cut = space + 1 if space > size // 3 else size
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [p for p in pieces if p]


def to_html(text: str, rtl: bool | None = None) -> str:
    """A text node of Telegram HTML: left-to-right runs isolated in right-to-left text, then escaped."""
    return html.escape(isolate_ltr(text, rtl), quote=False)


def label(text: str) -> str:
    """A button label (plain text, at most 64 characters before isolation)."""
    return isolate_ltr(text[:64])


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = []
    for row in reply.buttons:
        buttons = [InlineKeyboardButton(label(b.label), callback_data=b.payload)
                   for b in row if len(b.payload.encode()) <= CALLBACK_LIMIT]
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def messages(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """(html text, keyboard) per Telegram message; the keyboard goes with the last piece."""
    rtl = has_rtl(reply.text)
    pieces = split_text(reply.text, rtl=rtl) or [""]
    markup = keyboard(reply)
    return [(to_html(p, rtl), markup if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]
