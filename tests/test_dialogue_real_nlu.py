"""Conversations through the dialogue core with the real NLU (the session's Rasa server), in all three
languages."""
import asyncio

import pytest

from bot.config import ROOT
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from tests.fakes import Conversations
from bot.i18n import I18n

pytestmark = pytest.mark.rasa


@pytest.fixture()
def dialogue(understander):
    return Conversations(Dialogue(understander, ContentStore(ROOT / "content"), I18n()))


def say(dialogue, user, text):
    return asyncio.run(dialogue.handle_text(user, text))


@pytest.mark.parametrize("lang,messages", [
    ("en", [("what is human trafficking?", "define_trafficking"),
            ("how can i check if a recruitment agent is licensed", "verify_agent"),
            ("which number should i call to complain about an agent", "hotline_info")]),
    ("ur", [("انسانی اسمگلنگ کیا ہوتی ہے؟", "define_smuggling"),
            ("ٹریفکنگ اور اسمگلنگ میں کیا فرق ہے", "tip_vs_som"),
            ("ایجنٹ میرا پاسپورٹ اپنے پاس رکھنا چاہتا ہے", "passport_documents")]),
    ("ur-Latn", [("dunki route kya hota hai, kya ye safe hai", "irregular_route"),
                 ("agent 8 lakh fees mang raha hai kya ye theek hai", "agent_fees"),
                 ("mera beta bahar jana chahta hai, hum walidain kya check karein", "parent_guidance")]),
])
def test_answers_in_the_users_language(dialogue, lang, messages):
    content = dialogue.content_store.get()
    for text, topic in messages:
        turn = say(dialogue, f"real-{lang}", text)
        assert turn.language == lang, text
        assert turn.topic == topic, (text, turn.topic, turn.understanding.intent)
        assert content.answer(topic, lang) in turn.replies[0].text


def test_emergency_in_each_language_is_urgent(dialogue):
    for user, text in (("e1", "please help they locked my brother in a room in Tripoli and want 20 lakh"),
                       ("e2", "میرے بھائی کو لیبیا میں کمرے میں بند کر دیا ہے، بیس لاکھ مانگ رہے ہیں"),
                       ("e3", "bhai ko libya mein kamre mein band kar diya hai 20 lakh mang rahe hain")):
        turn = say(dialogue, user, text)
        assert turn.escalation == "urgent" and turn.topic == "emergency", text


def test_offer_check_from_a_free_text_description(dialogue):
    turn = say(dialogue, "oc", "I got a job offer for a driver in Dubai through an agent, is it genuine? "
                               "he says I will go on a visit visa and there is no contract")
    noted = [r.text for r in turn.replies if "From what you told me:" in r.text]
    assert noted, [r.text for r in turn.replies]
    assert "Question" in turn.replies[-1].text


def test_language_switch_mid_conversation(dialogue):
    first = say(dialogue, "sw", "how do i go abroad legally for work")
    second = say(dialogue, "sw", "bahar legal tareeqe se kaise jaun kaam ke liye")
    third = say(dialogue, "sw", "بیرون ملک قانونی طریقے سے کیسے جاؤں")
    assert (first.language, second.language, third.language) == ("en", "ur-Latn", "ur")
    assert {first.topic, second.topic, third.topic} == {"safe_migration"}
