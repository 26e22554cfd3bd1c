"""A conversation that listens (issue 23), in the dialogue core with a scripted NLU: crisis mode while an
urgent case is open, typed answers and questions inside the forms, questions about the assistant, the
job-or-study question, topics remembered, one message per turn, and the staff summary's entities."""
import asyncio

import pytest

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Button, CaseView, Dialogue, Reply, merge_replies
from bot.dialogue.listening import Listening
from bot.hotline.policy import merge_entities, summary
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.understanding import NLUResult, Understander
from tests.fakes import Conversations

CONTRACT = load_contract()
URGENT_CASE = CaseView(3, "urgent", "new", 5)


class NLU:
    """Scripted: text -> (intent, confidence, ranking, entities); anything else an unsure out_of_scope."""

    def __init__(self):
        self.script: dict[str, NLUResult] = {}

    def says(self, text, intent, confidence=0.9, ranking=None, entities=None):
        ranking = ranking or [(intent, confidence), ("warning_signs", 0.05)]
        entities = [{"start": 0, "end": 1, **e} for e in entities or []]
        self.script[text] = NLUResult(intent, confidence, ranking, entities, fallback=confidence < 0.45)
        return text

    async def parse(self, text):
        return self.script.get(text) or NLUResult("out_of_scope", 0.2, [("out_of_scope", 0.2)], [], fallback=True)


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


def make(languages):
    nlu = NLU()
    understander = Understander(nlu, languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                CONTRACT)
    store = ContentStore(ROOT / "content")
    return Conversations(Dialogue(understander, store, I18n(ROOT / "locales"))), nlu, store


def run(coro):
    return asyncio.run(coro)


def payloads(turn):
    return [b.payload for r in turn.replies for row in r.buttons for b in row]


def listening(store):
    return Listening(store.get().conversation)


# -- crisis mode -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang,text,run_away", [
    ("en", "how long?? pls fast they come back at nite", "shud i try to run away at nite?"),
    ("ur-Latn", "kitni der lagegi jaldi karo woh raat ko wapas aate hain", "kya main raat ko bhaag jaun?"),
    ("ur", "کتنی دیر لگے گی؟ وہ رات کو واپس آتے ہیں", "کیا میں رات کو بھاگ جاؤں؟"),
])
def test_crisis_mode_acknowledges_in_one_short_message(languages, lang, text, run_away):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("c", f"lang:{lang}"))
    content = store.get()
    emergency_page = content.answer("emergency", lang)
    nlu.says(text, "out_of_scope", 0.3)
    turn = run(dialogue.handle_text("c", text, URGENT_CASE))
    assert len(turn.replies) == 1 and turn.escalation is None and turn.case_told
    reply = turn.replies[0].text
    assert "3" in reply and emergency_page not in reply
    assert not any(p.startswith(("act:offer_check", "oc:")) for p in payloads(turn)), "never the offer check"
    assert content.answer("out_of_scope", lang) not in reply, "never out of scope"
    assert "5" in reply, "what to expect: the queue's target for urgent cases"
    nlu.says(run_away, "out_of_scope", 0.3)
    turn = run(dialogue.handle_text("c", run_away, URGENT_CASE))
    assert listening(store).answer(content, "crisis.run", lang) in turn.replies[0].text
    ok = nlu.says("ok" if lang != "ur" else "ٹھیک ہے", "affirm")
    turn = run(dialogue.handle_text("c", ok, URGENT_CASE))
    assert len(turn.replies) == 1 and len(turn.replies[0].text.split()) < 60
    assert content.answer("affirm", lang) not in turn.replies[0].text


def test_crisis_mode_answers_a_topic_without_the_offer_check(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("k", "lang:en"))
    fees = nlu.says("I paid 3 lakh cash, no receipt", "agent_fees")
    turn = run(dialogue.handle_text("k", fees, URGENT_CASE))
    assert turn.replies[0].text.startswith("Added to your case #3")
    assert store.get().answer("agent_fees", "en").splitlines()[0] in "\n".join(r.text for r in turn.replies)
    assert not any(p.startswith(("act:offer_check", "oc:")) for p in payloads(turn))


def test_crisis_mode_tells_who_has_the_case_and_keeps_details(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("d", "lang:en"))
    claimed = CaseView(4, "urgent", "claimed", 5)
    text = nlu.says("we are 6 boys near zuwara", "out_of_scope", 0.3,
                    entities=[{"entity": "country", "value": "Libya"}])
    turn = run(dialogue.handle_text("d", text, claimed))
    reply = turn.replies[0].text
    assert reply.startswith("Added to your case #4, with the details you gave")
    assert "has your case" in reply and "Nobody" not in reply
    # the human button says what it does once a case is open, and opens nothing new
    assert dialogue._action_button(dialogue._out(dialogue.states.get("d"), store.get(), claimed), "human").label \
        == "Add to my case"
    turn = run(dialogue.handle_button("d", "act:human", claimed))
    assert turn.escalation is None and "#4" in turn.replies[0].text


def test_phone_checked_gets_how_to_delete_the_chat(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("p", "lang:en"))
    text = nlu.says("they check my phone sometimes, how do i hide this chat", "privacy")
    turn = run(dialogue.handle_text("p", text, URGENT_CASE))
    reply = turn.replies[0].text
    assert "Delete this chat on your phone" in reply and "/delete_me only clears our copy" in reply
    assert "keep screenshots" not in reply.replace("do not keep screenshots", "")


def test_abroad_needs_the_user_to_say_where_they_are(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("a", "lang:en"))
    abroad = listening(store).answer(store.get(), "crisis.abroad", "en")
    visa = nlu.says("he sold five Dubai visas", "out_of_scope", 0.3, entities=[{"entity": "country", "value": "United Arab Emirates"}])
    turn = run(dialogue.handle_text("a", visa, URGENT_CASE))
    assert abroad not in turn.replies[0].text
    here = nlu.says("i am in libya now", "out_of_scope", 0.3, entities=[{"entity": "country", "value": "Libya"}])
    turn = run(dialogue.handle_text("a", here, URGENT_CASE))
    assert abroad in turn.replies[0].text
    assert len(turn.replies[0].text.split("\n\n")) == 3, "the acknowledgement and two lines at most"
    turn = run(dialogue.handle_text("a", here, URGENT_CASE))
    assert abroad not in turn.replies[0].text, "said once"
    assert "topic:abroad_in_trouble" in payloads(turn)


def test_abroad_advice_comes_before_the_numbers_at_home(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("l", "lang:en"))
    text = nlu.says("i am in libya they beat us and locked us in a house", "emergency",
                    entities=[{"entity": "country", "value": "Libya"}])
    turn = run(dialogue.handle_text("l", text))
    assert turn.escalation == "urgent"
    joined = "\n".join(r.text for r in turn.replies)
    abroad = listening(store).answer(store.get(), "crisis.abroad", "en")
    assert joined.index(abroad) < joined.index("1122")
    embassy = nlu.says("what is the embassy number in libya?", "hotline_info")
    turn = run(dialogue.handle_text("e", embassy))
    assert turn.replies[0].text == listening(store).answer(store.get(), "crisis.embassy", "en")


# -- opening cases only when meant ----------------------------------------------------------------------
@pytest.mark.parametrize("lang,text", [("en", "are you a real person or a bot?"),
                                       ("ur-Latn", "kya aap insaan ho ya bot?"),
                                       ("ur", "کیا آپ انسان ہیں یا بوٹ؟")])
def test_are_you_a_bot_is_answered_without_a_case(languages, lang, text):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("b", f"lang:{lang}"))
    nlu.says(text, "ask_human")  # the classifier hears a request for a person
    turn = run(dialogue.handle_text("b", text))
    assert turn.escalation is None
    assert "act:human" in payloads(turn)


def test_cost_question_and_a_woman_counsellor(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("w", "lang:ur-Latn"))
    cost = nlu.says("kya is service ke paise lagte hain?", "agent_fees")
    turn = run(dialogue.handle_text("w", cost))
    assert turn.replies[0].text.startswith("Yeh service free hai") and turn.escalation is None
    woman = nlu.says("mujhe kisi khatoon counsellor se baat karni hai", "ask_human")
    turn = run(dialogue.handle_text("w", woman))
    assert turn.escalation == "normal"
    assert {"entity": "request", "value": "female counsellor"} in turn.entities
    assert "khatoon" in turn.replies[0].text


def test_staff_summary_names_the_most_recent_country_first():
    entities = merge_entities({}, [{"entity": "country", "value": "United Arab Emirates"}])
    entities = merge_entities(entities, [{"entity": "country", "value": "Iran"}])
    line = summary("emergency", "en", entities)
    assert line.index("Iran") < line.index("United Arab Emirates")
    entities = merge_entities(entities, [{"entity": "request", "value": "female counsellor"}])
    assert "asks for a woman counsellor" in summary("human", "ur", entities)


# -- typed answers and questions inside the forms ------------------------------------------------------
@pytest.mark.parametrize("text,value,note", [
    ("haan 9 lakh cash abhi mang raha hai", "yes", "9 lakh cash abhi mang raha hai"),
    ("nahi koi contract nahi diya", "no", "koi contract nahi diya"),
    ("pata nahi yaar", "unsure", ""),
    ("ہاں، وہ نقد مانگ رہا ہے", "yes", "وہ نقد مانگ رہا ہے"),
    ("جی نہیں", "no", ""),
    ("Yes he did", "yes", ""),
    ("no idea", "unsure", ""),
    ("the agent is in Gilgit", None, None),
])
def test_typed_answers_are_read_for_their_meaning(languages, text, value, note):
    _, _, store = make(languages)
    from bot.dialogue.offer_check import OfferCheck
    found = Listening(store.get().conversation, OfferCheck(store.get().offer_check).unsure).typed_answer(text)
    if value is None:
        assert found is None
    else:
        assert found.value == value and found.note == note


def test_an_answer_with_a_detail_is_noted_and_can_be_changed(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("o", "lang:ur-Latn"))
    run(dialogue.handle_text("o", "/check"))
    run(dialogue.handle_button("o", "oc:kind:job"))
    run(dialogue.handle_text("o", nlu.says("nahi", "deny")))
    asking = dialogue.states.get("o").flow["asking"]
    turn = run(dialogue.handle_text("o", nlu.says("haan 9 lakh cash abhi mang raha hai", "agent_fees")))
    flow = dialogue.states.get("o").flow
    assert flow["answers"][asking] == "yes" and flow["notes"][asking] == "9 lakh cash abhi mang raha hai"
    assert len(turn.replies) == 1 and turn.replies[0].text.startswith("Note kar liya:")
    assert f"oc:undo:{asking}" in payloads(turn)
    turn = run(dialogue.handle_button("o", f"oc:undo:{asking}"))
    assert asking not in dialogue.states.get("o").flow["answers"]
    assert f"oc:yes:{asking}" in payloads(turn)


def test_feelings_in_the_check_are_acknowledged(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("f", "lang:en"))
    run(dialogue.handle_text("f", "/check"))
    run(dialogue.handle_button("f", "oc:kind:study"))
    turn = run(dialogue.handle_text("f", "I'm scared, these are my parents' savings"))
    assert len(turn.replies) == 1 and turn.replies[0].text.startswith("I understand that this is worrying")
    assert "Question 1 of" in turn.replies[0].text
    assert "Please answer with the buttons" not in turn.replies[0].text


@pytest.mark.parametrize("lang,question", [
    ("en", "wait, will the agent know it was me?"),
    ("ur-Latn", "kya agent ko pata chalega ke maine report ki?"),
    ("ur", "کیا ایجنٹ کو پتا چلے گا کہ رپورٹ میں نے کی؟"),
])
def test_a_question_in_the_report_form_is_answered_not_saved(languages, lang, question):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("r", f"lang:{lang}"))
    run(dialogue.handle_text("r", "/report"))
    run(dialogue.handle_text("r", nlu.says("He took 3 lakh and disappeared", "report_suspect")))
    run(dialogue.handle_button("r", "rf:skip"))  # who
    turn = run(dialogue.handle_text("r", question))  # where: a question, not an answer
    flow = dialogue.states.get("r").flow
    assert flow["step"] == "where" and "where" not in flow["answers"]
    answer = listening(store).answer(store.get(), "questions.report_privacy", lang)
    assert turn.replies[0].text.startswith(answer) and len(turn.replies) == 1


def test_job_or_study_is_asked_when_both_checks_are_close(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("j", "lang:en"))
    text = nlu.says("my son got an offer for Italy", "check_study_offer", 0.36,
                    ranking=[("check_study_offer", 0.36), ("check_job_offer", 0.33), ("greet", 0.1)])
    turn = run(dialogue.handle_text("j", text))
    assert "oc:kind:job" in payloads(turn) and "oc:kind:study" in payloads(turn)
    assert "not sure I understood" not in turn.replies[-1].text


def test_an_offer_told_with_country_and_amount_starts_the_check(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("t", "lang:ur-Latn"))
    text = nlu.says("mere bete ko Italy ka work visa mil raha hai, agent 18 lakh mang raha hai aur aadha abhi cash mein",
                    "agent_fees", entities=[{"entity": "country", "value": "Italy"},
                                            {"entity": "amount", "value": "18 lakh", "number": 1800000, "currency": "PKR"}])
    turn = run(dialogue.handle_text("t", text))
    flow = dialogue.states.get("t").flow
    assert flow["name"] == "offer_check" and flow["kind"] == "job" and "Italy" in flow["told"]
    assert "Aap ne jo bataya us ke mutabiq:" in turn.replies[-1].text and "oc:restart" in payloads(turn)


# -- no repetition, fewer messages ------------------------------------------------------------------------
def test_a_topic_asked_again_gets_a_pointer_not_the_page(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("s", "lang:en"))
    text = nlu.says("what is the dunki route", "irregular_route")
    first = run(dialogue.handle_text("s", text))
    page = store.get().answer("irregular_route", "en")
    assert page in first.replies[0].text
    again = run(dialogue.handle_text("s", text))
    assert page not in again.replies[0].text and "topic:irregular_route" in payloads(again)
    pressed = run(dialogue.handle_button("s", "topic:irregular_route"))  # a button always shows it
    assert page in pressed.replies[0].text


def test_greetings_carry_no_sources_line(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("g", "lang:en"))
    for text, intent in (("hello", "greet"), ("thanks", "thank"), ("what is the weather", "out_of_scope")):
        turn = run(dialogue.handle_text("g", nlu.says(text, intent)))
        assert "Reviewed" not in turn.replies[0].text and "Sources" not in turn.replies[0].text


def test_replies_merge_into_one_message_where_they_can():
    a, b = Button("A", "a:1"), Button("B", "b:1")
    merged = merge_replies([Reply("one"), Reply("two", ((a,),)), Reply("ack")])
    assert [r.text for r in merged] == ["one\n\ntwo\n\nack"] and merged[0].buttons == ((a,),)
    kept = merge_replies([Reply("one", ((a,),)), Reply("two", ((b,),))])
    assert len(kept) == 2, "two replies with their own buttons stay two"
    long = merge_replies([Reply("x" * 3000), Reply("y" * 1000)])
    assert len(long) == 2, "never beyond Telegram's message size"


def test_help_lists_every_command(languages):
    dialogue, nlu, store = make(languages)
    for lang in ("en", "ur", "ur-Latn"):
        run(dialogue.handle_button("h", f"lang:{lang}"))
        text = run(dialogue.handle_text("h", "/help")).replies[0].text
        for command in ("/check", "/report", "/hotline", "/menu", "/language", "/privacy", "/delete_me", "/help"):
            assert command in text, (lang, command)


def test_menu_has_report_and_start_follows_a_known_language(languages):
    dialogue, nlu, store = make(languages)
    turn = run(dialogue.handle_text("m", "/start"))  # language unknown: the choice first
    assert [p for p in payloads(turn) if p.startswith("lang:")] and len(turn.replies) == 1
    turn = run(dialogue.handle_button("m", "lang:ur"))
    assert "act:report" in payloads(turn) and len(merge_replies(turn.replies)) == 1
    turn = run(dialogue.handle_text("m", "/start"))  # known now: the welcome in it
    assert turn.replies[0].text == store.get().answer("greet", "ur") and "act:language" in payloads(turn)


def test_a_typed_answer_that_names_another_red_flag_notes_it_too(languages):
    """"nahi, koi contract nahi diya" typed at another question: that answer, and the missing contract."""
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("n", "lang:ur-Latn"))
    run(dialogue.handle_text("n", "/check"))
    run(dialogue.handle_button("n", "oc:kind:job"))
    asking = dialogue.states.get("n").flow["asking"]
    turn = run(dialogue.handle_text("n", nlu.says("nahi koi contract nahi diya", "deny")))
    flow = dialogue.states.get("n").flow
    assert flow["answers"][asking] == "no" and asking != "written_offer"
    from bot.dialogue.offer_check import OfferCheck
    assert flow["answers"]["written_offer"] == OfferCheck(store.get().offer_check).by_id["written_offer"].flag
    assert turn.replies[0].text.count("\n• ") == 1


def test_texts_that_name_the_emergency_button_use_its_label(languages):
    """"Open Emergency" under a button "Someone is in danger now" sent people looking for a button that
    was not there: a text that points to the emergency button quotes its label."""
    content = ContentStore(ROOT / "content").get()
    for topic in content.topics.values():
        if not any(b.get("topic") == "emergency" for b in topic.buttons):
            continue
        for lang in ("en", "ur", "ur-Latn"):
            text = content.answer(topic.id, lang)
            assert "Emergency" not in text and "ایمرجنسی" not in text, (topic.id, lang)


@pytest.mark.parametrize("lang,text", [("en", "they check my phone, how do i hide this chat"),
                                       ("ur-Latn", "woh mera phone check karte hain, chat kaise chupaun"),
                                       ("ur", "وہ میرا فون چیک کرتے ہیں، یہ چیٹ کیسے چھپاؤں")])
def test_once_the_phone_is_checked_no_screenshots_are_suggested(languages, lang, text):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("q", f"lang:{lang}"))
    content = store.get()
    before = run(dialogue.handle_button("q", "more:emergency")).replies[0].text
    assert "screenshot" in before.lower() or "اسکرین شاٹ" in before
    turn = run(dialogue.handle_text("q", nlu.says(text, "privacy")))
    assert turn.replies[0].text.startswith(listening(store).answer(content, "phone", lang)[:20])
    after = run(dialogue.handle_button("q", "more:emergency")).replies[0].text
    assert "screenshot" not in after.lower() and "اسکرین شاٹ" not in after
    page = run(dialogue.handle_button("q", "topic:emergency")).replies[0].text
    assert "1122" in page and "Keep every message" not in page


def test_thanks_inside_the_check_is_not_a_form_error(languages):
    dialogue, nlu, store = make(languages)
    run(dialogue.handle_button("y", "lang:ur"))
    run(dialogue.handle_text("y", "/check"))
    run(dialogue.handle_button("y", "oc:kind:study"))
    turn = run(dialogue.handle_text("y", nlu.says("شکریہ", "thank")))
    assert turn.replies[0].text.startswith("خوشی ہوئی۔") and "oc:stop" in payloads(turn)
