"""The danger safety net: a message that says someone is in danger now must escalate as urgent even
when the classifier is unsure or wrong.

Editors keep the phrases in content/safety/danger_lexicon.yml, in all three languages. A phrase is a
sequence of words:
  word        the word itself (Roman Urdu phrases also match other spellings: band/bnd/bund)
  =word       exactly this spelling (for short Roman Urdu words whose other spellings mean something else)
  word*       any word starting with it (kidnap* -> kidnapped, kidnapping)
  a/b/c       any of these words
  ~           up to three other words in between
Three lists:
  strong      a match alone makes the message urgent, unless it is phrased as a general question
              ("what happens if someone is kidnapped?"), which then needs the classifier's support;
  supporting  a match makes it urgent only with the classifier's support;
  general     markers of a general or hypothetical question.
The classifier's support: `emergency` has at least `support` probability in its ranking. A message the
classifier itself puts under `emergency` is always urgent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from .text import clean

GAP = 3
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
_VOWELS = set("aeiouy")


class HasRanking(Protocol):
    intent: str | None

    def probability(self, intent: str) -> float: ...


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


@dataclass(frozen=True)
class SafetyVerdict:
    urgent: bool
    source: str = ""  # classifier | lexicon | lexicon+classifier
    matched: tuple[str, ...] = ()
    general_question: bool = False


@dataclass
class DangerLexicon:
    strong: list[Phrase] = field(default_factory=list)
    supporting: list[Phrase] = field(default_factory=list)
    general: list[Phrase] = field(default_factory=list)
    support: float = 0.10

    @classmethod
    def from_yaml(cls, text: str) -> "DangerLexicon":
        data = yaml.safe_load(text) or {}

        def phrases(section: str) -> list[Phrase]:
            out = []
            for language, items in (data.get(section) or {}).items():
                for item in items or []:
                    out.append(Phrase.parse(str(item), str(language)))
            return out

        return cls(phrases("strong"), phrases("supporting"), phrases("general"), float(data.get("support", 0.10)))

    @classmethod
    def from_file(cls, path: Path) -> "DangerLexicon":
        return cls.from_yaml(path.read_text(encoding="utf-8"))

    @staticmethod
    def _hits(phrases: list[Phrase], tokens: list[str], folded: list[str]) -> list[str]:
        return [p.text for p in phrases if p.search(tokens, folded)]

    def scan(self, text: str) -> tuple[list[str], list[str], bool]:
        tokens = tokenize(text)
        folded = [fold(t) for t in tokens]
        strong = self._hits(self.strong, tokens, folded)
        supporting = self._hits(self.supporting, tokens, folded)
        general = bool(strong or supporting) and bool(self._hits(self.general, tokens, folded))
        return strong, supporting, general


class DangerNet:
    def __init__(self, lexicon: DangerLexicon):
        self.lexicon = lexicon

    @classmethod
    def from_file(cls, path: Path) -> "DangerNet":
        return cls(DangerLexicon.from_file(path))

    def assess(self, text: str, result: HasRanking) -> SafetyVerdict:
        strong, supporting, general = self.lexicon.scan(text)
        if result.intent == "emergency":
            return SafetyVerdict(True, "classifier", tuple(strong + supporting), general)
        supported = result.probability("emergency") >= self.lexicon.support
        if strong and (not general or supported):
            return SafetyVerdict(True, "lexicon" if not supported else "lexicon+classifier", tuple(strong), general)
        if supporting and supported:
            return SafetyVerdict(True, "lexicon+classifier", tuple(supporting), general)
        return SafetyVerdict(False, "", tuple(strong + supporting), general)
