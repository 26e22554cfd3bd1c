"""The danger safety net: a message that says someone is in danger now must escalate as urgent even
when the classifier is unsure or wrong.

Editors keep the phrases in content/safety/danger_lexicon.yml, in all three languages (the phrase
syntax: bot/phrases.py). Three lists:
  strong      a match alone makes the message urgent, unless it is phrased as a general question
              ("what happens if someone is kidnapped?"), which then needs the classifier's support;
  supporting  a match makes it urgent only with the classifier's support;
  general     markers of a general or hypothetical question.
The classifier's support: `emergency` has at least `support` probability in its ranking. A message the
classifier itself puts under `emergency` is urgent when it is at least `alone` sure of it, or when any
danger phrase (strong or supporting) backs it; an unsure `emergency` guess with no danger words is not.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

from .phrases import Phrase, PhraseSet, fold, same_roman_word, tokenize  # noqa: F401  (re-exported)


class HasRanking(Protocol):
    intent: str | None

    def probability(self, intent: str) -> float: ...

@dataclass(frozen=True)
class SafetyVerdict:
    urgent: bool
    source: str = ""  # classifier | lexicon | lexicon+classifier
    matched: tuple[str, ...] = ()
    general_question: bool = False


@dataclass
class DangerLexicon:
    strong: PhraseSet = field(default_factory=PhraseSet)
    supporting: PhraseSet = field(default_factory=PhraseSet)
    general: PhraseSet = field(default_factory=PhraseSet)
    support: float = 0.10
    alone: float = 0.5

    @classmethod
    def from_yaml(cls, text: str) -> "DangerLexicon":
        data = yaml.safe_load(text) or {}
        return cls(PhraseSet.from_mapping(data.get("strong")), PhraseSet.from_mapping(data.get("supporting")),
                   PhraseSet.from_mapping(data.get("general")), float(data.get("support", 0.10)),
                   float(data.get("alone", 0.5)))

    @classmethod
    def from_file(cls, path: Path) -> "DangerLexicon":
        return cls.from_yaml(path.read_text(encoding="utf-8"))

    def scan(self, text: str) -> tuple[list[str], list[str], bool]:
        tokens = tokenize(text)
        folded = [fold(t) for t in tokens]
        strong = self.strong.find_tokens(tokens, folded)
        supporting = self.supporting.find_tokens(tokens, folded)
        general = bool(strong or supporting) and bool(self.general.find_tokens(tokens, folded))
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
            if result.probability("emergency") >= self.lexicon.alone:
                return SafetyVerdict(True, "classifier", tuple(strong + supporting), general)
            if strong or supporting:
                return SafetyVerdict(True, "lexicon+classifier", tuple(strong + supporting), general)
            return SafetyVerdict(False, "", (), general)
        supported = result.probability("emergency") >= self.lexicon.support
        if strong and (not general or supported):
            return SafetyVerdict(True, "lexicon" if not supported else "lexicon+classifier", tuple(strong), general)
        if supporting and supported:
            return SafetyVerdict(True, "lexicon+classifier", tuple(supporting), general)
        return SafetyVerdict(False, "", tuple(strong + supporting), general)
