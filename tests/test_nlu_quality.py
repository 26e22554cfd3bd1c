"""The model meets its targets on held-out data it never trained on (nlu/heldout/): the split of the
training pool and the independently written sets."""
import pytest

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
