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


# -- right-to-left rendering ----------------------------------------------------------------------------
# In Urdu text (bidi class AL), the Unicode Bidirectional Algorithm turns a number into an "Arabic number":
# "111-247-786" is drawn 786-247-111, "/help" is drawn help/, and "0304 1112123" swaps its groups. Every
# left-to-right run (a number, phone number, amount, URL, e-mail, /command or Latin-script words) inside
# right-to-left text is wrapped in LRI ... PDI when it is shown; what is stored stays clean.
LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RTL_LETTER = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# a letter or digit of a left-to-right run: Latin letters, European and Arabic-Indic digits (Urdu's ۰-۹)
_ALNUM = "A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff\u0660-\u0669\u06f0-\u06f9"
_WORD = f"[{_ALNUM}]+(?:[-.,:/_@'’&+][{_ALNUM}]+)*%?"
_TOKEN = (r"(?:(?:https?://|www\.)[^\s<>\"'،۔]*[^\s<>\"'،۔.,;:!?)\]]"  # a URL (trailing punctuation stays out)
          rf"|/[A-Za-z][A-Za-z0-9_]*(?:@[A-Za-z0-9_]+)?"  # a /command
          rf"|[+#]?{_WORD})")  # a word, a number, an amount, an e-mail address, a phone number
# a run: tokens joined by spaces, or by ". " after an abbreviation ("Rs. 15,000", "e.g. FIA")
_LTR_RUN = re.compile(rf"(?<![{_ALNUM}/]){_TOKEN}(?:\.?[ \u00a0]+{_TOKEN})*")
_ISOLATED = re.compile(f"{LRI}|{FSI}|\u2067")


def has_rtl(text: str) -> bool:
    """True when the text has a right-to-left letter (Urdu, Arabic, Hebrew...)."""
    return bool(_RTL_LETTER.search(text))


def isolate_ltr(text: str, rtl: bool | None = None) -> str:
    """The text to show, with every left-to-right run bidi-isolated when the text is right-to-left.

    `rtl=None` decides from the text itself: a text with no right-to-left letter (English, Roman Urdu)
    is returned unchanged. Text that already carries isolates (rendered twice) is returned as it is."""
    if not isinstance(text, str) or not text or (rtl is None and not has_rtl(text)) or rtl is False or _ISOLATED.search(text):
        return text
    return _LTR_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text)


_MARKUP = re.compile(r"(<[^>]*>|&#?\w+;)")


def isolate_html(markup: str, rtl: bool | None = None) -> str:
    """`isolate_ltr` for HTML: only the text between tags and entities is touched, never the markup."""
    rtl = has_rtl(markup) if rtl is None else rtl
    if not rtl or _ISOLATED.search(markup):
        return markup
    return "".join(part if i % 2 else isolate_ltr(part, True) for i, part in enumerate(_MARKUP.split(markup)))


def strip_bidi(text: str) -> str:
    """The text without direction marks and isolates (what was stored)."""
    return "".join(c for c in text if c not in BIDI_CONTROLS)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_utf8(text: str) -> str:
    """The text with every lone surrogate (what Python makes of undecodable input: invalid UTF-8 read
    with errors="surrogateescape", as stdin is) replaced by U+FFFD, so that it encodes as UTF-8. Every
    channel passes what users send through it."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def valid_utf8_tree(value):
    """valid_utf8 over every string in decoded JSON (dicts, lists), keys included; the same object back
    when nothing needed cleaning."""
    if isinstance(value, str):
        return valid_utf8(value)
    if isinstance(value, dict):
        return {valid_utf8_tree(k): valid_utf8_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [valid_utf8_tree(v) for v in value]
    return value
