"""The danger safety net: fires on danger now, in three languages, even when the classifier is wrong;
stays quiet on ordinary questions that mention a passport, a boat or money."""
import pytest

from bot.config import ROOT
from bot.safety import DangerLexicon, DangerNet, fold, same_roman_word
from bot.understanding import NLUResult

LEXICON = ROOT / "content" / "safety" / "danger_lexicon.yml"


@pytest.fixture(scope="module")
def net():
    return DangerNet.from_file(LEXICON)


def wrong(intent="irregular_route", emergency=0.0):
    """The classifier's guess, wrong, with a given emergency probability."""
    ranking = [(intent, 0.9 - emergency)] + ([("emergency", emergency)] if emergency else [])
    return NLUResult(intent, 0.9 - emergency, ranking)


@pytest.mark.parametrize("text", [
    "they locked my brother in a room in Tripoli",
    "the boat is sinking near greece please",
    "the smugglers are beating us every night",
    "my son says they will kill him if we dont pay",
    "mere bhai ko kamre mein band kar diya hai libya mein",
    "wo log hamain maar rahe hain, bachao",
    "bhai ko jaan se maarne ki dhamki de rahe hain",
    "میرے بیٹے کو کمرے میں بند کر دیا ہے",
    "وہ لوگ ہمیں مار رہے ہیں",
    "کشتی ڈوب رہی ہے",
])
def test_strong_phrases_make_it_urgent_whatever_the_classifier_says(net, text):
    verdict = net.assess(text, wrong())
    assert verdict.urgent and verdict.source == "lexicon"


@pytest.mark.parametrize("text", [
    "the agent wants my passport for visa processing, is that normal?",
    "is the boat route from libya to italy dangerous?",
    "agent is asking 5 lakh upfront for a job in saudi, is that legal",
    "agent passport mang raha hai, dena chahiye?",
    "کیا ایجنٹ کو پاسپورٹ دینا ٹھیک ہے؟",
    "what happens if someone is kidnapped abroad, who helps?",
    "my account is locked, how do i reset it",
    "kya kashti wala rasta mehfooz hai",
    "mera data delete kar do",
    "bachon ko bahar bhejne se pehle walidain kya check karein",
])
def test_ordinary_questions_do_not_fire(net, text):
    assert not net.assess(text, wrong("passport_documents")).urgent


def test_supporting_phrase_needs_the_classifier(net):
    text = "my brother was kidnapped near the border"
    assert not net.assess(text, wrong(emergency=0.0)).urgent
    verdict = net.assess(text, wrong(emergency=0.2))
    assert verdict.urgent and verdict.source == "lexicon+classifier"


def test_general_question_needs_the_classifier(net):
    text = "what happens if they locked him in a room abroad"
    assert not net.assess(text, wrong(emergency=0.0)).urgent
    assert net.assess(text, wrong(emergency=0.3)).urgent


def test_classifier_emergency_needs_confidence_or_a_danger_word(net):
    sure = net.assess("please call me", NLUResult("emergency", 0.7, [("emergency", 0.7)]))
    assert sure.urgent and sure.source == "classifier"
    unsure = NLUResult("emergency", 0.3, [("emergency", 0.3), ("out_of_scope", 0.25)])
    assert not net.assess("fix my washing machine", unsure).urgent
    backed = net.assess("my brother is missing since friday", unsure)
    assert backed.urgent and backed.source == "lexicon+classifier"


def test_roman_urdu_spelling_variants():
    assert same_roman_word(fold("rahe"), fold("rhe")) and same_roman_word(fold("maar"), fold("mar"))
    assert same_roman_word(fold("hai"), fold("hay")) and same_roman_word(fold("kar"), fold("kr"))
    assert not same_roman_word(fold("mera"), fold("mara"))


def test_phrase_syntax_gap_prefix_exact():
    lexicon = DangerLexicon.from_yaml("""
strong:
  en: [held ~ basement, kidnap*]
  ur-Latn: [=bachao, band kar]
""")
    scan = lambda t: lexicon.scan(t)[0]
    assert scan("they held him in a basement")  # a gap of three words
    assert not scan("they held my two brothers in a basement")  # five: too far apart
    assert scan("he got kidnapped")
    assert scan("bachao") and not scan("bacho ko")
    assert scan("bnd kr diya")


def test_editing_the_lexicon_changes_behaviour(tmp_path):
    path = tmp_path / "lexicon.yml"
    path.write_text("strong:\n  en: [purple elephant]\n", encoding="utf-8")
    net = DangerNet.from_file(path)
    assert net.assess("a purple elephant is here", wrong()).urgent
    assert not net.assess("they locked me in a room", wrong()).urgent


def test_lexicon_alone_rarely_fires_on_heldout_non_emergencies(net, heldout):
    others = [e for rows in heldout.values() for e in rows if e.intent != "emergency"]
    fired = [e.text for e in others if net.assess(e.text, wrong(e.intent)).urgent]
    assert len(fired) / len(others) <= 0.01, fired
