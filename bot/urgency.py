"""The urgency classifier: is someone in danger NOW? One probability per message, from a small model of its
own (scikit-learn: character and word n-grams, logistic regression), so that the danger net does not lean
on the intent classifier's p(emergency), which moves with every retraining of the NLU model.

What it learns from (all of it editable without a programmer):
  - nlu/data/<lang>/emergency.yml: danger (1); every other intent file of nlu/data: not a danger (0);
  - nlu/urgency/*.tsv and the development near-miss sets (nlu/nearmiss-dev/, nlu/nearmiss-aside/):
    TSV `lang  label  text` with label `danger` (1) or `ordinary` (0): present dangers told indirectly, and
    ordinary questions full of danger words.
The measurement sets (nlu/heldout/, nlu/nearmiss/) are never read here.

Training takes a few seconds; the trained model is kept in a cache folder under the hash of its inputs, so
a process loads it instead of training again, and a changed example is picked up at the next start.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .nlu.data import read_examples
from .safety import prepared

log = logging.getLogger(__name__)

VERSION = "urgency-3"  # part of the cache key: change it when the features or the model change
DANGER_INTENT = "emergency"
LABELS = {"danger": 1, "ordinary": 0}
# a labelled near-miss message (TSV) counts this many times an intent example of nlu/data: those are what the
# model is for (danger words in ordinary messages, dangers told indirectly); the intent examples are mostly short
# questions without danger words. Session 11, leave-one-file-out on the labelled sets (each file predicted by a
# model trained without it): weight 1 -> 3 false urgent 14.9 -> 13.5 % (recall 0.961 -> 0.960); word 1-3-grams
# and char 2-5 -> word 1-2 and char 3-5: 9.4 -> 8.6 %; C 8 -> 16: 6.0 -> 5.4 % (recall 0.961 both).
TSV_WEIGHT = 3.0
C = 16.0
# laughing faces: the text the lexicon and the vectorisers see has no emoji, but "ludo mein sab mujhe maar rahe
# hain 😂" is a joke: the model gets one word for them
LAUGHING = frozenset("😂🤣😅😆😁😄😜🤪😝😹")
LAUGH_TOKEN = "xxlaugh"


@dataclass(frozen=True)
class Labelled:
    text: str
    label: int  # 1: a danger now
    lang: str = ""
    origin: str = ""


def read_labelled_tsv(path: Path) -> list[Labelled]:
    """`lang  label  text` with a header line; label danger | ordinary. A bad line is an error with its number."""
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in LABELS:
            raise ValueError(f"{path}:{number}: expected `lang<TAB>danger|ordinary<TAB>text`")
        out.append(Labelled(parts[2].strip(), LABELS[parts[1]], parts[0], path.name))
    return out


def training_examples(nlu_data: Path, example_dirs: Iterable[Path]) -> list[Labelled]:
    """Everything the model learns from, de-duplicated by text (a text labelled danger anywhere is danger)."""
    found: dict[str, Labelled] = {}
    for ex in read_examples(nlu_data):
        found.setdefault(ex.text, Labelled(ex.text, int(ex.intent == DANGER_INTENT), ex.lang, f"nlu/data:{ex.intent}"))
    for folder in example_dirs:
        for path in sorted(Path(folder).glob("*.tsv")):
            for item in read_labelled_tsv(path):
                if item.text not in found or item.label > found[item.text].label:
                    found[item.text] = item
    return list(found.values())


def features(text: str) -> str:
    """What the vectorisers see: the words as the lexicon matches them (lower case, no punctuation but
    question marks, Roman Urdu in one spelling)."""
    plain, roman = prepared(text)
    laugh = f" {LAUGH_TOKEN}" if any(ch in LAUGHING for ch in text) else ""
    return (roman or plain) + laugh


def build_pipeline(c: float = C):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    vectors = FeatureUnion([
        ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                  token_pattern=r"[^\s]+")),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True,
                                  max_features=120000)),
    ])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, solver="liblinear")
    return Pipeline([("vectors", vectors), ("model", model)])


class UrgencyModel:
    def __init__(self, pipeline, digest: str = ""):
        self.pipeline, self.digest = pipeline, digest

    @classmethod
    def train(cls, examples: list[Labelled], digest: str = "", c: float = C) -> "UrgencyModel":
        labels = {e.label for e in examples}
        if labels != {0, 1}:
            raise ValueError("the urgency model needs examples of both danger and ordinary messages")
        pipeline = build_pipeline(c)
        weights = [1.0 if e.origin.startswith("nlu/data") else TSV_WEIGHT for e in examples]
        pipeline.fit([features(e.text) for e in examples], [e.label for e in examples], model__sample_weight=weights)
        return cls(pipeline, digest)

    def probability(self, text: str) -> float:
        return float(self.pipeline.predict_proba([features(text)])[0][1])

    def probabilities(self, texts: list[str]) -> list[float]:
        return [float(p[1]) for p in self.pipeline.predict_proba([features(t) for t in texts])]


def digest_of(nlu_data: Path, example_dirs: Iterable[Path]) -> str:
    h = hashlib.sha256(VERSION.encode())
    paths = sorted(Path(nlu_data).rglob("*.yml")) + [p for d in example_dirs for p in sorted(Path(d).glob("*.tsv"))]
    for path in paths:
        h.update(str(path.name).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_lock = threading.Lock()
_loaded: dict[str, UrgencyModel] = {}


def load_or_train(nlu_data: Path, example_dirs: list[Path], cache_dir: Path) -> UrgencyModel:
    """The model for these inputs: from memory, from the cache folder, or trained now (and cached)."""
    digest = digest_of(nlu_data, example_dirs)
    with _lock:
        if digest in _loaded:
            return _loaded[digest]
        path = Path(cache_dir) / f"urgency-{digest}.pickle"
        model = None
        if path.exists():
            try:
                with path.open("rb") as handle:
                    model = UrgencyModel(pickle.load(handle), digest)
            except Exception as exc:  # a torn or incompatible file: train again
                log.warning("urgency model %s unreadable (%s): training again", path, type(exc).__name__)
        if model is None:
            model = UrgencyModel.train(training_examples(nlu_data, example_dirs), digest)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".urgency-")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(model.pipeline, handle)
            os.replace(tmp, path)
        _loaded[digest] = model
        return model
