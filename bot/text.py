"""Cleaning user text before it is classified, keeping a map back to the original offsets.

Users send zero-width characters, Arabic presentation forms, Arabic-keyboard letters in Urdu, 10,000
character pastes and texts that start with "/" (which Rasa would read as an intent name). `clean`
returns a normalised text for the NLU and, for every character of it, the index of the original
character it came from, so that entity offsets can be reported against what the user wrote.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_NLU_CHARS = 1000

# Invisible or direction-control characters: ZWSP..RLM, LRE..RLO, word joiner..invisible plus, BOM, ALM
_INVISIBLE = set(range(0x200B, 0x2010)) | set(range(0x202A, 0x202F)) | set(range(0x2060, 0x2065)) | {0xFEFF, 0x061C, 0x00AD}
# Arabic diacritics (harakat, tanween, superscript alef) carry no meaning for classification
_DIACRITICS = set(range(0x064B, 0x0660)) | {0x0670}
# Arabic-keyboard letters to their Urdu forms
_URDU_FOLD = {"\u064A": "\u06CC", "\u0649": "\u06CC", "\u0643": "\u06A9", "\u0647": "\u06C1", "\u06C0": "\u06C1\u0654"}
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Cleaned:
    original: str
    text: str  # what the NLU sees
    offsets: tuple[int, ...]  # offsets[i] = index in `original` of text[i]
    truncated: bool = False

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of `text` back onto `original`."""
        if not self.offsets:
            return 0, 0
        start = min(max(start, 0), len(self.offsets) - 1)
        last = min(max(end - 1, start), len(self.offsets) - 1)
        return self.offsets[start], self.offsets[last] + 1


_DROP = None
_BLANK = " "
_UNSEEN = object()
_KINDS: dict[str, object] = {}  # a character -> _DROP, _BLANK, or the tuple of characters it becomes
_MAX_KINDS = 20000


def _kind(char: str):
    code = ord(char)
    if code in _INVISIBLE or code in _DIACRITICS or unicodedata.category(char) == "Cc" and not _SPACE.match(char):
        return _DROP
    if _SPACE.match(char):
        return _BLANK
    parts = []
    for piece in unicodedata.normalize("NFKC", char):
        for part in _URDU_FOLD.get(piece, piece):
            if ord(part) not in _DIACRITICS:
                parts.append(part)
    return tuple(parts)


def clean(original: str, max_chars: int = MAX_NLU_CHARS) -> Cleaned:
    out: list[str] = []
    offsets: list[int] = []
    previous_space = True  # drops leading white space
    kinds = _KINDS
    for index, char in enumerate(original):
        kind = kinds.get(char, _UNSEEN)
        if kind is _UNSEEN:  # each distinct character is classified once (NFKC, folding, categories)
            kind = _kind(char)
            if len(kinds) < _MAX_KINDS:
                kinds[char] = kind
        if kind is _DROP:
            continue
        if kind is _BLANK:
            if not previous_space:
                out.append(" ")
                offsets.append(index)
            previous_space = True
            continue
        previous_space = False
        for part in kind:
            out.append(part)
            offsets.append(index)
    # "/command" text: Rasa would take it for an intent name; the leading slashes go
    while out and out[0] in "/\\ ":
        out.pop(0)
        offsets.pop(0)
    while out and out[-1] == " ":
        out.pop()
        offsets.pop()
    truncated = False
    if len(out) > max_chars:
        cut = max_chars
        space = "".join(out[:max_chars]).rfind(" ")
        if space > max_chars // 2:
            cut = space
        out, offsets, truncated = out[:cut], offsets[:cut], True
    return Cleaned(original, "".join(out), tuple(offsets), truncated)


def letters(text: str) -> int:
    return sum(1 for c in text if c.isalpha())
