"""Checks at the edge of the console, before a value reaches a handler or the database.

- Integers from a path, a query or a form: ASCII digits only, within the range of the id columns
  (INTEGER: 32-bit signed on PostgreSQL, where a bigger number is an error, not a miss; SQLite's are
  64-bit). A bigger id cannot exist: it is refused as 404/400 here, not as an overflow error in the driver.
- Text with a NUL character (PostgreSQL cannot store or compare it: an error, not a miss) is refused
  (400) in any query parameter or form field.
- Bidi controls (embeddings, overrides, isolates and the marks LRM, RLM, ALM) in names and audit fields are
  replaced by a visible `<U+202E>`: an override can no longer make "\\u202e1nimda" read as "admin1".
  Free text (messages, notes, replies) keeps them: Urdu writers use the marks; templates isolate that text.
"""
from __future__ import annotations

import re
import unicodedata

MAX_ID = 2**31 - 1  # the id columns (storage.db) are INTEGER: PostgreSQL's is 32-bit
_DIGITS = re.compile(r"[0-9]{1,19}")
# explicit directional formatting characters (Unicode bidi classes) and the three implicit marks
_BIDI_CLASSES = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_BIDI_MARKS = frozenset({"\u200e", "\u200f", "\u061c"})


class BadRequest(Exception):
    """A value that no form of the console sends (answered 400)."""


def parse_id(value: str | None) -> int | None:
    """A whole number from text, or None when it is not one an id column can hold (digits only, no sign,
    no spaces, at most MAX_ID)."""
    if value is None or not _DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if number <= MAX_ID else None


def has_nul(pairs) -> bool:
    """Whether any key or value of (key, value) pairs holds a NUL character."""
    return any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in pairs)


def id_in_range(value: int) -> bool:
    return 0 <= value <= MAX_ID


def is_bidi_control(char: str) -> bool:
    return char in _BIDI_MARKS or unicodedata.bidirectional(char) in _BIDI_CLASSES


def neutralise_bidi(text: str) -> str:
    """`text` with every bidi control written as a visible <U+XXXX>."""
    if text.isascii():
        return text
    return "".join(f"<U+{ord(c):04X}>" if is_bidi_control(c) else c for c in text)


def neutralise_fields(value):
    """neutralise_bidi over the strings (keys and values) of a JSON-like value."""
    if isinstance(value, str):
        return neutralise_bidi(value)
    if isinstance(value, dict):
        return {neutralise_fields(k): neutralise_fields(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [neutralise_fields(v) for v in value]
    return value
