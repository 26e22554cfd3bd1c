"""Phrase matching shared by the danger safety net and the offer check's pre-fill.

A phrase is a sequence of words:
  word        the word itself (Roman Urdu phrases also match other spellings: band/bnd/bund)
  =word       exactly this spelling (for short Roman Urdu words whose other spellings mean something else)
  word*       any word starting with it (kidnap* -> kidnapped, kidnapping)
  a/b/c       any of these words
  ~           up to three other words in between
Text and phrases are cleaned the same way (bot.text.clean) and compared in lower case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from .text import clean

GAP = 3
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_VOWELS = set("aeiouy")


_PRE = (("aa", "a"), ("ee", "i"), ("oo", "o"), ("ai", "e"), ("ay", "e"), ("ey", "e"), ("ae", "e"), ("ei", "e"))
_CLASS = {"a": "a", "e": "e", "i": "i", "y": "i", "o": "o", "u": "o"}


@lru_cache(maxsize=65536)
def fold(word: str) -> tuple[str, str]:
    """A spelling-insensitive key for Roman Urdu: (consonant skeleton, vowel classes).
    maar/mar/mr -> ("mr", "a"/""), rahe/rhe/rahay -> ("rh", "ae"/"e"), hai/hay/he -> ("h", "e")."""
    word = word.lower().replace("'", "")
    for a, b in _PRE:
        word = word.replace(a, b)
    if not word:
        return "", ""
    skeleton = [word[0]]
    vowels: list[str] = []
    for char in word[1:]:
        cls = _CLASS.get(char)
        if cls:
            if not vowels or vowels[-1] != cls or skeleton_len_changed(skeleton, vowels):
                vowels.append(cls)
        elif skeleton[-1] != char:
            skeleton.append(char)
            vowels.append("|")
    signature = "".join(v for v in vowels if v != "|")
    return "".join(skeleton), signature


def skeleton_len_changed(skeleton: list[str], vowels: list[str]) -> bool:
    return bool(vowels) and vowels[-1] == "|"


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(c in it for c in short)


def same_roman_word(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Same consonants, and the vowels one writer typed fit into the other's (rhe ~ rahe, mara !~ mera)."""
    if a[0] != b[0]:
        return False
    return _subsequence(a[1], b[1]) or _subsequence(b[1], a[1])


def tokenize(text: str) -> list[str]:
    return [t.replace("'", "") for t in _TOKEN.findall(text.lower())]


@dataclass(frozen=True)
class _Alt:
    word: str
    prefix: bool
    folded: tuple[str, str] | None  # Roman Urdu: compare spelling-insensitively

    def matches(self, token: str, folded_token: tuple[str, str]) -> bool:
        if self.prefix:
            return token.startswith(self.word)
        if self.folded is not None:
            return same_roman_word(self.folded, folded_token)
        return token == self.word


@dataclass(frozen=True)
class Phrase:
    text: str
    language: str
    steps: tuple  # each a tuple of _Alt, or GAP marker None

    @classmethod
    def parse(cls, text: str, language: str) -> "Phrase":
        steps = []
        roman = language == "ur-Latn"
        for raw in clean(text).text.lower().split():
            if raw == "~":
                steps.append(None)
                continue
            alts = []
            for word in raw.split("/"):
                word = word.replace("'", "")
                if not word:
                    continue
                if word.endswith("*"):
                    alts.append(_Alt(word[:-1], True, None))
                elif word.startswith("="):
                    alts.append(_Alt(word[1:], False, None))
                elif roman and word.isascii():
                    alts.append(_Alt(word, False, fold(word)))
                else:
                    alts.append(_Alt(word, False, None))
            steps.append(tuple(alts))
        return cls(text, language, tuple(steps))

    def search(self, tokens: list[str], folded: list[str]) -> bool:
        steps = self.steps
        n = len(tokens)

        def match(step: int, pos: int) -> bool:
            if step == len(steps):
                return True
            spec = steps[step]
            if spec is None:  # a gap of 0..GAP tokens
                return any(match(step + 1, pos + skip) for skip in range(0, GAP + 1) if pos + skip <= n)
            if pos < n and any(alt.matches(tokens[pos], folded[pos]) for alt in spec):
                return match(step + 1, pos + 1)
            return False

        first = steps[0]
        for start in range(n):
            if first is not None and not any(alt.matches(tokens[start], folded[start]) for alt in first):
                continue
            if match(0, start):
                return True
        return False

    def spans(self, tokens: list[str], folded: list) -> list[tuple[int, int]]:
        """Every (start, end) token span where the phrase occurs (the shortest end for each start)."""
        steps = self.steps
        n = len(tokens)

        def end(step: int, pos: int) -> int | None:
            if step == len(steps):
                return pos
            spec = steps[step]
            if spec is None:
                for skip in range(0, GAP + 1):
                    if pos + skip <= n:
                        found = end(step + 1, pos + skip)
                        if found is not None:
                            return found
                return None
            if pos < n and any(alt.matches(tokens[pos], folded[pos]) for alt in spec):
                return end(step + 1, pos + 1)
            return None

        found = []
        for start in range(n):
            stop = end(0, start)
            if stop is not None and stop > start:
                found.append((start, stop))
        return found




class PhraseSet:
    """Phrases by language; `find(text)` lists the phrases (as written) that occur in the text."""

    def __init__(self, phrases: Iterable[Phrase] = ()):
        self.phrases = list(phrases)
        # an index on the first word: a message only tries the phrases one of its words can start
        self._exact: dict[str, list[Phrase]] = {}
        self._prefix: dict[str, list[Phrase]] = {}
        self._folded: dict[str, list[Phrase]] = {}
        self._always: list[Phrase] = []
        for phrase in self.phrases:
            first = phrase.steps[0] if phrase.steps else None
            if not first:
                self._always.append(phrase)
                continue
            for alt in first:
                if alt.prefix:
                    if len(alt.word) < 2:
                        self._always.append(phrase)
                    else:
                        self._prefix.setdefault(alt.word[:2], []).append(phrase)
                elif alt.folded is not None:
                    self._folded.setdefault(alt.folded[0], []).append(phrase)
                else:
                    self._exact.setdefault(alt.word, []).append(phrase)

    @classmethod
    def from_mapping(cls, by_language: dict | None) -> "PhraseSet":
        return cls(Phrase.parse(str(item), str(language))
                   for language, items in (by_language or {}).items() for item in items or [])

    def find_tokens(self, tokens: list[str], folded: list) -> list[str]:
        candidates: dict[int, Phrase] = {id(p): p for p in self._always}
        for token, key in zip(tokens, folded):
            for table, lookup in ((self._exact, token), (self._prefix, token[:2]), (self._folded, key[0])):
                for phrase in table.get(lookup, ()):
                    candidates[id(phrase)] = phrase
        return [p.text for p in self.phrases if id(p) in candidates and p.search(tokens, folded)]

    def find(self, text: str) -> list[str]:
        tokens = tokenize(clean(text).text)
        return self.find_tokens(tokens, [fold(t) for t in tokens])
