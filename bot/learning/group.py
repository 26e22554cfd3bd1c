"""Grouping near-identical inbox messages, so that a reviewer labels a group once.

`normalize` is the key a message is stored and looked up under (same key: one inbox row with a count;
the fingerprints of ignored and applied messages and the training data's examples use it too): the
cleaned text (bot/text.py: invisible characters, Arabic-keyboard letters), case folded, every digit
(Western, Urdu, Arabic-Indic) one "0", punctuation gone, spaces collapsed. `cluster` joins rows whose
keys are near-identical (rapidfuzz's ratio) into groups. Pure: no I/O.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from rapidfuzz import fuzz, process

from ..text import clean

KEY_CHARS = 400
NEAR = 90.0  # rapidfuzz ratio (0-100) from which two keys are the same message

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    text = clean(text).text.casefold()
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Nd":
            out.append("0")
        elif category[0] in "PS" and ch not in "<>":  # placeholders (<phone>) stay distinct words
            out.append(" ")
        else:
            out.append(ch)
    text = _DIGITS.sub("0", "".join(out))
    return _SPACES.sub(" ", text).strip()[:KEY_CHARS]


@dataclass
class Group:
    language: str
    ids: list[int] = field(default_factory=list)  # the rows, the most frequent first
    count: int = 0  # messages in all the rows


def cluster(rows: Sequence[tuple[int, str, str, int]], near: float = NEAR) -> list[Group]:
    """rows: (id, language, key, count), in the order the groups should follow (the first row of each
    group leads it). Greedy: a row joins the first group of its language whose leader is near it."""
    groups: list[Group] = []
    leaders: dict[str, list[tuple[str, Group]]] = {}
    for row_id, language, key, count in rows:
        mine = leaders.setdefault(language, [])
        best = process.extractOne(key, [k for k, _ in mine], scorer=fuzz.ratio, score_cutoff=near) if mine else None
        if best is not None:
            group = mine[best[2]][1]
        else:
            group = Group(language)
            groups.append(group)
            mine.append((key, group))
        group.ids.append(row_id)
        group.count += count
    return groups


def near_any(key: str, keys: Iterable[str], near: float = NEAR) -> bool:
    """Whether `key` is near one of `keys` (an example of the training data, a message ignored before)."""
    keys = list(keys)
    return bool(keys) and process.extractOne(key, keys, scorer=fuzz.ratio, score_cutoff=near) is not None
