"""Language identification: script for Urdu, a naive Bayes model for English vs Roman Urdu."""
import pytest

from bot.config import ROOT
from bot.language import LanguageIdentifier


@pytest.fixture(scope="module")
def identifier():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


@pytest.mark.parametrize("text,lang", [
    ("is this job offer in dubai real?", "en"),
    ("agent passport mang raha hai kya dena chahiye", "ur-Latn"),
    ("bhai ye visa asli he ya nai", "ur-Latn"),
    ("mera beta italy jana chahta hai dunki se", "ur-Latn"),
    ("ایجنٹ پانچ لاکھ مانگ رہا ہے", "ur"),
    ("agent ne پاسپورٹ رکھ لیا ہے", "ur"),
    ("my son got admission letter from a university in Cyprus, is it genuine", "en"),
    ("salam", "ur-Latn"),
])
def test_examples(identifier, text, lang):
    assert identifier.identify(text) == lang


def test_no_letters_gives_the_default(identifier):
    assert identifier.identify("🙏🙏", default="ur") == "ur"
    assert identifier.identify("12345") == "en"


def test_heldout_accuracy_at_least_097(identifier, heldout):
    examples = [e for rows in heldout.values() for e in rows]
    correct = sum(identifier.identify(e.text) == e.lang for e in examples)
    assert correct / len(examples) >= 0.97, correct / len(examples)


def test_model_round_trips_through_json(identifier):
    from bot.language import LatinModel

    again = LanguageIdentifier(LatinModel.from_json(identifier.latin.to_json()))
    for text in ("kya haal hai", "what is trafficking"):
        assert again.identify(text) == identifier.identify(text)
