"""Turning dialogue replies into Telegram messages: HTML-escaped text, split under Telegram's 4,096
character limit at sentence boundaries, buttons as inline keyboards. Pure: no network."""
from __future__ import annotations

import html
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..dialogue.engine import Reply

LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram accepts
_SENTENCE_END = re.compile(r"(?<=[.!?؟۔])\s+|\n")


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` characters once HTML-escaped, cut after a sentence or a line where
    possible, else at a space, never inside a word unless a single word is longer than the limit."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if len(html.escape(rest, quote=False)) <= limit:
            pieces.append(rest)
            break
        # the longest prefix whose escaped form fits (binary search: escaping only lengthens)
        low, high = 1, min(len(rest), limit)
        while low < high:
            mid = (low + high + 1) // 2
            if len(html.escape(rest[:mid], quote=False)) <= limit:
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


def to_html(text: str) -> str:
    return html.escape(text, quote=False)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    rows = []
    for row in reply.buttons:
        buttons = [InlineKeyboardButton(b.label[:64], callback_data=b.payload)
                   for b in row if len(b.payload.encode()) <= CALLBACK_LIMIT]
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


def messages(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """(html text, keyboard) per Telegram message; the keyboard goes with the last piece."""
    pieces = split_text(reply.text) or [""]
    markup = keyboard(reply)
    return [(to_html(p), markup if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]
