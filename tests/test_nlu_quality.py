"""The model meets its targets on held-out data it never trained on (nlu/heldout/): the split of the
training pool and the independently written sets."""
import pytest

from bot.config import ROOT
from bot.nlu.evaluate import evaluate_sets

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def scores(understander, heldout):
    return {name: s for name, (s, _) in evaluate_sets(understander, heldout).items()}


def test_intent_accuracy(scores):
    overall = scores["all"]
    assert overall.accuracy >= 0.90, overall.accuracy
    for lang, acc in overall.per_language.items():
        assert acc >= 0.85, (lang, acc)


def test_urgent_recall_and_false_urgent_rate(scores):
    overall = scores["all"]
    assert overall.urgent_recall >= 0.98, overall.urgent_recall
    assert overall.urgent_false_rate <= 0.02, overall.urgent_false_rate


def test_language_identification(scores):
    assert scores["all"].language_accuracy >= 0.97


def test_every_intent_is_recognised(scores):
    for intent, m in scores["all"].per_intent.items():
        if intent != "none":
            assert m["recall"] >= 0.6, (intent, m)


# -- the near-miss sets (nlu/nearmiss/*.tsv): ordinary questions that use danger words, and present
# dangers phrased in ways neither the lexicon nor the training data contain. Written by people who never
# saw the lexicon; the lexicon is tuned on nlu/nearmiss-dev/ only, which is not read here.
NEARMISS_DIR = ROOT / "nlu" / "nearmiss"


@pytest.fixture(scope="module")
def nearmiss_sets(understander):
    from bot.nlu.evaluate import evaluate_nearmiss, nearmiss_files, read_nearmiss

    files = nearmiss_files(NEARMISS_DIR)
    if not files:
        pytest.skip(f"no near-miss set in {NEARMISS_DIR}")
    return evaluate_nearmiss(understander, {f.stem: read_nearmiss(f) for f in files})


@pytest.fixture(scope="module")
def nearmiss(nearmiss_sets):
    return nearmiss_sets.get("all") or next(iter(nearmiss_sets.values()))


# Measured 2026-12-06 (session 11) on nearmiss6.tsv (480, fresh and blind, measured once with the final net): false
# urgent 2.9% (7 of 240), urgent recall 0.996 (239 of 240) (nlu/nearmiss/README.md): both targets met, with no
# margin on the first (8 of 240 would fail). The net must also never fall behind the old net (the lexicon with the
# intent classifier's p(emergency), URGENCY_MODEL=off) on the same set: false urgent 21.2% (51 of 240), urgent
# recall 0.875 (210 of 240).
OLD_NET = {"false_urgent": 51 / 240, "urgent_recall": 210 / 240}


def test_nearmiss_ordinary_questions_are_rarely_urgent(nearmiss):
    overall = nearmiss.per_language["all"]
    assert overall["n_ordinary"] and overall["false_urgent"] <= 0.03, nearmiss.per_language


def test_nearmiss_dangers_are_urgent(nearmiss):
    overall = nearmiss.per_language["all"]
    assert overall["n_danger"] and overall["urgent_recall"] >= 0.98, nearmiss.per_language


def test_nearmiss_no_worse_than_the_old_lexicon(nearmiss_sets):
    first = nearmiss_sets["nearmiss6"].per_language["all"]
    assert first["n_ordinary"] and first["n_danger"]
    assert first["false_urgent"] <= OLD_NET["false_urgent"], first
    assert first["urgent_recall"] >= OLD_NET["urgent_recall"], first
