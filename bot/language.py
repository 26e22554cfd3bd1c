"""Language identification: en, ur (Urdu script) or ur-Latn (Roman Urdu).

Off-the-shelf detectors call Roman Urdu "English". Script decides Urdu script; between English and Roman
Urdu a small multinomial naive Bayes over words and character n-grams decides, trained on the project's
own labelled training data (nlu/data/en and nlu/data/ur-Latn). Pure Python, well under a millisecond a
message.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

LANGUAGES = ("en", "ur", "ur-Latn")
DEFAULT_LANGUAGE = "en"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def is_arabic_script(char: str) -> bool:
    code = ord(char)
    return 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF


def script_counts(text: str) -> tuple[int, int]:
    arabic = latin = 0
    for char in text:
        if not char.isalpha():
            continue
        if is_arabic_script(char):
            arabic += 1
        elif char.isascii():
            latin += 1
    return arabic, latin


def features(text: str) -> Counter:
    """Words (weighted up) and character 2-4-grams of each padded word."""
    feats: Counter = Counter()
    for word in _WORD.findall(text.lower()):
        feats["w:" + word] += 2
        padded = f" {word} "
        for n in (2, 3, 4):
            for i in range(len(padded) - n + 1):
                feats[padded[i:i + n]] += 1
    return feats


@dataclass
class LatinModel:
    """Naive Bayes between English and Roman Urdu."""
    log_prior: dict[str, float]
    log_prob: dict[str, dict[str, float]]
    log_unseen: dict[str, float]

    @classmethod
    def train(cls, samples: Iterable[tuple[str, str]], alpha: float = 0.5) -> "LatinModel":
        counts: dict[str, Counter] = {"en": Counter(), "ur-Latn": Counter()}
        docs: Counter = Counter()
        for text, lang in samples:
            if lang in counts:
                counts[lang].update(features(text))
                docs[lang] += 1
        vocab = set(counts["en"]) | set(counts["ur-Latn"])
        total_docs = sum(docs.values()) or 1
        log_prob, log_unseen, log_prior = {}, {}, {}
        for lang, counter in counts.items():
            total = sum(counter.values()) + alpha * (len(vocab) + 1)
            log_prob[lang] = {f: math.log((c + alpha) / total) for f, c in counter.items()}
            log_unseen[lang] = math.log(alpha / total)
            log_prior[lang] = math.log((docs[lang] + 1) / (total_docs + 2))
        return cls(log_prior, log_prob, log_unseen)

    def scores(self, text: str) -> dict[str, float]:
        feats = features(text)
        vocab_known = [f for f in feats if f in self.log_prob["en"] or f in self.log_prob["ur-Latn"]]
        out = {}
        for lang in ("en", "ur-Latn"):
            table, unseen = self.log_prob[lang], self.log_unseen[lang]
            out[lang] = self.log_prior[lang] + sum(feats[f] * table.get(f, unseen) for f in vocab_known)
        return out

    def predict(self, text: str) -> str:
        scores = self.scores(text)
        return max(scores, key=scores.get)

    def to_json(self) -> str:
        return json.dumps({"log_prior": self.log_prior, "log_prob": self.log_prob, "log_unseen": self.log_unseen})

    @classmethod
    def from_json(cls, data: str) -> "LatinModel":
        raw = json.loads(data)
        return cls(raw["log_prior"], raw["log_prob"], raw["log_unseen"])


class LanguageIdentifier:
    def __init__(self, latin_model: LatinModel):
        self.latin = latin_model

    def identify(self, text: str, default: str = DEFAULT_LANGUAGE) -> str:
        arabic, latin = script_counts(text)
        if arabic == 0 and latin == 0:
            return default
        # Urdu script dominates, or is a real part of a mixed message ("agent ne پاسپورٹ رکھ لیا")
        if arabic >= latin or arabic >= 6:
            return "ur"
        return self.latin.predict(text)

    @classmethod
    def from_training_data(cls, data_dir: Path) -> "LanguageIdentifier":
        return cls(LatinModel.train(training_samples(data_dir)))


def training_samples(data_dir: Path) -> list[tuple[str, str]]:
    """(text, language) pairs from nlu/data/<lang>/*.yml."""
    from .nlu.data import read_examples  # local import: keeps this module free of YAML at import time

    samples = []
    for lang in ("en", "ur-Latn"):
        for example in read_examples(data_dir / lang):
            samples.append((example.text, lang))
    return samples
