"""The urgency model (bot/urgency.py) and the danger net that uses it instead of the classifier's p(emergency)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot import urgency
from bot.safety import DangerLexicon, DangerNet, UrgencyThresholds
from bot.understanding import NLUResult

ROOT = Path(__file__).resolve().parent.parent
LEXICON = ROOT / "content" / "safety" / "danger_lexicon.yml"
EXAMPLES = [ROOT / "nlu" / "urgency", ROOT / "nlu" / "nearmiss-dev", ROOT / "nlu" / "nearmiss-aside"]


class Fixed:
    """An urgency model that answers one probability (the net's rules, without a trained model)."""

    def __init__(self, value: float):
        self.value, self.seen = value, []

    def probability(self, text: str) -> float:
        self.seen.append(text)
        return self.value


def no_emergency() -> NLUResult:
    return NLUResult("verify_agent", 0.9, [("verify_agent", 0.9), ("emergency", 0.01)])


def emergency_sure() -> NLUResult:
    return NLUResult("emergency", 0.95, [("emergency", 0.95), ("ask_human", 0.02)])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return urgency.load_or_train(ROOT / "nlu" / "data", EXAMPLES, tmp_path_factory.mktemp("urgency"))


def test_the_thresholds_come_from_the_lexicon_file():
    lexicon = DangerLexicon.from_file(LEXICON)
    assert isinstance(lexicon.urgency, UrgencyThresholds)
    assert 0 < lexicon.urgency.ask < lexicon.urgency.alone <= 1
    changed = DangerLexicon.from_yaml("urgency: {alone: 0.7, ask: 0.2}\n")
    assert (changed.urgency.alone, changed.urgency.ask, changed.urgency.support) == (0.7, 0.2, UrgencyThresholds.support)
    with pytest.raises(ValueError, match="urgency"):
        DangerLexicon.from_yaml("urgency: {alone: 0.7, typo: 0.2}\n")


def test_the_urgency_model_decides_instead_of_the_classifier():
    # a message without any danger phrase: the classifier's sure "emergency" no longer decides alone ...
    text = "please come quickly"
    calm = DangerNet.from_file(LEXICON, Fixed(0.05)).assess(text, emergency_sure())
    assert not calm.urgent and not calm.ask and calm.urgency == 0.05
    # ... the urgency model does, whatever the classifier says
    sure = DangerNet.from_file(LEXICON, Fixed(0.9)).assess(text, no_emergency())
    assert sure.urgent and sure.source == "urgency model"
    assert "p(danger now) 0.90" in sure.describe() and "urgency model" in sure.brief()
    th = DangerLexicon.from_file(LEXICON).urgency
    unsure = DangerNet.from_file(LEXICON, Fixed((th.ask + th.alone) / 2)).assess(text, no_emergency())
    assert not unsure.urgent and unsure.ask
    # without an urgency model, the classifier's p(emergency) as before
    assert DangerNet.from_file(LEXICON).assess(text, emergency_sure()).urgent


def test_strong_phrases_and_general_questions_with_the_model():
    strong = "they locked my brother in a room and beat him"
    assert DangerNet.from_file(LEXICON, Fixed(0.3)).assess(strong, no_emergency()).urgent
    # the words of a danger, but the model sees none now ("pubg mein usko headshot maar diya"): asked, not urgent
    doubted = DangerNet.from_file(LEXICON, Fixed(0.02)).assess(strong, no_emergency())
    assert not doubted.urgent and doubted.ask and doubted.matched
    general = "is it dangerous to go by boat from libya?"
    verdict = DangerNet.from_file(LEXICON, Fixed(0.5)).assess(general, no_emergency())
    assert not verdict.urgent and verdict.general_question
    # a danger told as a question, the model sure of it: urgent all the same
    told = DangerNet.from_file(LEXICON, Fixed(0.97)).assess(general, no_emergency())
    assert told.urgent and told.source == "urgency model"
    # ... but never when the danger is over (released, back home)
    over = "my brother was locked in a room in libya last year, he is back home now, is it dangerous to go again?"
    assert not DangerNet.from_file(LEXICON, Fixed(0.97)).assess(over, no_emergency()).urgent


def test_a_short_message_needs_a_surer_model():
    lexicon = DangerLexicon.from_file(LEXICON)
    th = lexicon.urgency
    assert th.alone_short > th.alone
    between = (th.alone + th.alone_short) / 2
    assert not DangerNet(lexicon, Fixed(between)).assess("no it's not", no_emergency()).urgent
    assert DangerNet(lexicon, Fixed(th.alone_short)).assess("no it's not", no_emergency()).urgent
    long = "my cousin says the men at the farm do not let anyone leave at night"
    assert not any((lexicon.scan(long).strong, lexicon.scan(long).ambiguous, lexicon.scan(long).supporting))
    assert DangerNet(lexicon, Fixed(between)).assess(long, no_emergency()).urgent


def test_an_idiom_cue_gives_way_only_to_a_model_that_is_sure():
    text = "my phone will die soon, we are in the sea, no land visible, please tell someone"
    lexicon = DangerLexicon.from_file(LEXICON)
    assert lexicon.scan(text).idiom and lexicon.scan(text).not_now  # "my phone ... die" is in the idiom list
    th = lexicon.urgency
    assert th.idiom_override <= 1
    assert DangerNet(lexicon, Fixed(th.idiom_override)).assess(text, no_emergency()).urgent
    assert not DangerNet(lexicon, Fixed(th.idiom_override - 0.05)).assess(text, no_emergency()).urgent
    # a joke the model is sure of is still a joke when the danger is over or past
    over = "lol my phone died when the boat sank in 2015, we were rescued and are home now"
    assert lexicon.scan(over).over or lexicon.scan(over).past
    assert not DangerNet(lexicon, Fixed(0.99)).assess(over, no_emergency()).urgent


def test_one_or_two_words_are_left_to_the_classifier():
    fixed = Fixed(0.99)
    net = DangerNet.from_file(LEXICON, fixed)
    assert not net.assess("nahi", NLUResult("deny", 0.9, [("deny", 0.9), ("emergency", 0.01)])).urgent
    assert fixed.seen == []  # not asked at all
    assert net.assess("help please", emergency_sure()).urgent  # the classifier, sure of an emergency
    assert net.assess("they beat me every night", no_emergency()).urgent and fixed.seen


def test_the_model_runs_when_the_classifier_is_down():
    net = DangerNet.from_file(LEXICON, Fixed(0.9))
    down = NLUResult(None, 0.0, [], [], fallback=True)
    assert net.assess("please come quickly", down, classifier_down=True).urgent


def test_a_trained_model_tells_a_danger_now_from_a_question(model):
    dangers = ["they took our phones and the man with the gun stands at the door all night",
               "bhai ko 3 din se kamre mein band rakha hai aur khana bhi nahi dete",
               "وہ لوگ میرے بیٹے کو روز مارتے ہیں اور کہتے ہیں پیسے بھیجو"]
    questions = ["how do people end up in scam compounds, I saw a documentary",
                 "kya agent passport rakh sakta hai? ye legal hai?",
                 "کیا کشتی والا راستہ خطرناک ہوتا ہے"]
    assert all(p > 0.5 for p in model.probabilities(dangers)), model.probabilities(dangers)
    assert all(p < 0.5 for p in model.probabilities(questions)), model.probabilities(questions)


def test_the_model_is_cached_under_the_hash_of_its_inputs(tmp_path, monkeypatch):
    data = tmp_path / "data" / "en"
    data.mkdir(parents=True)
    (data / "emergency.yml").write_text('version: "3.1"\nnlu:\n- intent: emergency\n  examples: |\n'
                                        "    - they are beating me\n    - help they locked us in\n")
    (data / "greet.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - salam\n')
    extra = tmp_path / "urgency"
    extra.mkdir()
    (extra / "more.tsv").write_text("lang\tlabel\ttext\nen\tordinary\tis the route dangerous\n", encoding="utf-8")
    cache = tmp_path / "cache"
    first = urgency.load_or_train(tmp_path / "data", [extra], cache)
    assert len(list(cache.glob("urgency-*.pickle"))) == 1
    urgency._loaded.clear()
    trained = []
    monkeypatch.setattr(urgency.UrgencyModel, "train", classmethod(lambda cls, *a, **k: trained.append(1)))
    again = urgency.load_or_train(tmp_path / "data", [extra], cache)  # from the cache file, not trained
    assert not trained and again.digest == first.digest
    assert again.probability("they are beating me") == pytest.approx(first.probability("they are beating me"))
    monkeypatch.undo()
    (extra / "more.tsv").write_text("lang\tlabel\ttext\nen\tdanger\tthey took my passport and lock me in\n",
                                    encoding="utf-8")
    changed = urgency.load_or_train(tmp_path / "data", [extra], cache)  # an edited example: a new model
    assert changed.digest != first.digest and len(list(cache.glob("urgency-*.pickle"))) == 2


def test_bad_example_files_are_refused_with_their_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("lang\tlabel\ttext\nen\tdanger\tok\nen\turgent\tnot a label\n", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.tsv:3"):
        urgency.read_labelled_tsv(bad)
    with pytest.raises(ValueError, match="both"):
        urgency.UrgencyModel.train([urgency.Labelled("x", 1)])


def test_measurement_sets_are_never_training_data():
    from bot.config import Settings

    assert not any(p.name in ("heldout", "nearmiss") for p in Settings().urgency_examples)
