"""The agent check in the dialogue (fake NLU, milliseconds): licensed, expired, not found and ambiguous,
in English, Urdu and Roman Urdu; /agent, the menu and the verify_agent intent; the empty register; the
register's date and its warning; the result joining the user's open case."""
from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.agent_check import FixedRegister
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from tests.fakes import Conversations
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.register.match import Register
from bot.register.parse import parse_files
from bot.safety import DangerNet
from bot.understanding import Understander
from tests.test_dialogue import ScriptedNLU

DATA = Path(__file__).parent / "data" / "register"
TODAY = date(2026, 12, 5)


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


@pytest.fixture(scope="module")
def agencies():
    return parse_files([(p.name, p.read_bytes()) for p in sorted(DATA.glob("list-of-oeps-page*.html"))]).agencies


def make(languages, agencies, register_date=date(2026, 11, 30), today=TODAY, empty=False):
    nlu = ScriptedNLU()
    understander = Understander(nlu, languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                load_contract())
    register = None if empty else Register(agencies, register_date, today=today)
    dialogue = Conversations(Dialogue(understander, ContentStore(ROOT / "content"), I18n(),
                                      register=FixedRegister(register)))
    dialogue.agent.today = lambda: today
    return dialogue, nlu


def run(coro):
    return asyncio.run(coro)


def payloads(turn) -> list[str]:
    return [b.payload for r in turn.replies for row in r.buttons for b in row]


def start(dialogue, user, lang):
    """/agent in the user's language (the language is chosen first, as a button)."""
    run(dialogue.handle_button(user, f"lang:{lang}"))
    turn = run(dialogue.handle_text(user, "/agent"))
    assert dialogue.states.get(user).flow == {"name": "agent_check", "step": "ask"}
    return turn


EXPECT = {  # per language: words that must be in the reply
    "en": {"valid": "necessary, not sufficient", "expired": "EXPIRED", "not_found": "breaking the law",
           "choose": "None of these", "date": "Nov 30, 2026"},
    "ur": {"valid": "ضروری ہے، کافی نہیں", "expired": "ختم", "not_found": "قانون", "choose": "ان میں سے کوئی نہیں",
           "date": "2026"},
    "ur-Latn": {"valid": "zaroori hai, kaafi nahi", "expired": "expire", "not_found": "qanoon",
                "choose": "In mein se koi nahi", "date": "30/11/2026"},
}


@pytest.mark.parametrize("lang", ["en", "ur", "ur-Latn"])
def test_licensed_expired_not_found_ambiguous(languages, agencies, lang):
    dialogue, nlu = make(languages, agencies)
    words = EXPECT[lang]
    user = f"a-{lang}"

    start(dialogue, user, lang)
    licensed = run(dialogue.handle_text(user, "OEPL No. 0017/RWP"))
    text = licensed.replies[-1].text
    assert "M/s Example Hunza Peak Manpower Services" in text and "0017/RWP" in text
    assert words["valid"] in text and words["date"] in text
    assert licensed.case["agent_check"]["status"] == "valid" and licensed.case["agent_check"]["licence"] == "0017/RWP"
    assert dialogue.states.get(user).flow is None
    assert all(r.language == lang and r.rtl == (lang == "ur") for r in licensed.replies)

    run(dialogue.handle_button(user, "act:agent_again"))
    expired = run(dialogue.handle_text(user, "demo sea breez travel and tours"))
    text = expired.replies[-1].text
    assert "Demo Sea Breeze Travel & Tours (Pvt) Ltd" in text and words["expired"] in text
    assert "act:report" in payloads(expired)
    assert expired.case["agent_check"]["status"] == "expired"

    run(dialogue.handle_button(user, "act:agent_again"))
    missing = run(dialogue.handle_text(user, "Golden Visa Consultants"))
    text = missing.replies[-1].text
    assert "Golden Visa Consultants" in text and words["not_found"] in text and words["date"] in text
    assert "beoe.gov.pk" in text
    assert {"act:report", "act:hotline"} <= set(payloads(missing))
    assert missing.case["agent_check"]["outcome"] == "not_found"

    run(dialogue.handle_button(user, "act:agent_again"))
    twins = run(dialogue.handle_text(user, "hunza peak example"))
    assert twins.case == {}  # nothing chosen yet: no result
    assert words["choose"] in [b.label for r in twins.replies for row in r.buttons for b in row]
    picks = [p for p in payloads(twins) if p.startswith("ag:pick:")]
    assert picks == ["ag:pick:0017/RWP", "ag:pick:0503/PSH"] or picks == ["ag:pick:0503/PSH", "ag:pick:0017/RWP"]
    chosen = run(dialogue.handle_button(user, "ag:pick:0503/PSH"))
    assert "Example Hunza Peak Travel & Tours" in chosen.replies[-1].text
    assert chosen.case["agent_check"]["licence"] == "0503/PSH"
    stale = run(dialogue.handle_button(user, "ag:pick:0017/RWP"))  # the choice is over
    assert stale.case == {} and "act:agent" in payloads(stale)


def test_none_of_these_is_not_found(languages, agencies):
    dialogue, _ = make(languages, agencies)
    start(dialogue, "n", "en")
    turn = run(dialogue.handle_text("n", "Peshawar Travels"))  # a part of one name: offered, not the answer
    assert turn.replies[-1].buttons and "ag:none" in payloads(turn)
    assert not any("is not on the register" in r.text for r in turn.replies)  # a weak match is not the answer
    none = run(dialogue.handle_button("n", "ag:none"))
    assert '"Peshawar Travels" is not on the register of Nov 30, 2026.' in none.replies[-1].text


def test_blacklisted_suspended_and_urdu_script_names(languages, agencies):
    from bot.register.parse import Notice

    notices = [Notice("Blacklisting of M/s Sample Mango City Manpower Services", date(2026, 12, 1),
                      kind="blacklisting", licences=["0127/MULTAN"])]
    dialogue, _ = make(languages, agencies)
    dialogue.agent.source = FixedRegister(Register(agencies, date(2026, 11, 30), notices, today=TODAY))
    start(dialogue, "b", "en")
    turn = run(dialogue.handle_text("b", "0127/Multan"))
    text = turn.replies[-1].text
    assert "BLACKLISTED" in text and "Do not deal with this agency at all" in text
    assert "BE&OE notice of Dec 1, 2026: Blacklisting of M/s Sample Mango City Manpower Services" in text
    assert "Multan" in text
    start(dialogue, "b", "ur")
    turn = run(dialogue.handle_text("b", "ڈیمو شندور پولو انٹرنیشنل"))
    assert "Demo Shandur Polo International (Pvt.) Ltd." in turn.replies[-1].text


def test_the_verify_agent_intent_and_the_menu(languages, agencies):
    dialogue, nlu = make(languages, agencies)
    turn = run(dialogue.handle_text("v", nlu.says("is OEPL No. 0066/RWP a licensed agent?", "verify_agent")))
    assert "Sample Karakoram Gateway Overseas Employment Promoters" in turn.replies[-1].text  # checked at once
    turn = run(dialogue.handle_text("v", nlu.says("is sample crescent star overseas licensed?", "verify_agent")))
    assert "Sample Crescent Star Overseas Employment Promoters" in turn.replies[-1].text  # one agency named
    turn = run(dialogue.handle_text("v", nlu.says("how do i check an agent", "verify_agent")))
    assert dialogue.states.get("v").flow["name"] == "agent_check" and "1234/RWP" in turn.replies[-1].text
    menu = run(dialogue.handle_button("m", "act:menu"))
    assert "act:agent" in payloads(menu)
    topic = run(dialogue.handle_button("m", "topic:verify_agent"))  # the how-to offers the check
    assert "act:agent" in payloads(topic)


def test_a_question_on_another_topic_leaves_the_check(languages, agencies):
    dialogue, nlu = make(languages, agencies)
    start(dialogue, "q", "en")
    turn = run(dialogue.handle_text("q", nlu.says("what are the warning signs of a fake job", "warning_signs")))
    store = dialogue.content_store.get()
    assert store.answer("warning_signs", "en") in turn.replies[0].text
    assert dialogue.states.get("q").flow is None
    start(dialogue, "q", "en")
    stop = run(dialogue.handle_text("q", "cancel"))
    assert dialogue.states.get("q").flow is None and "stopped" in stop.replies[0].text


def test_empty_register_says_it_cannot_check_yet(languages, agencies):
    dialogue, nlu = make(languages, agencies, empty=True)
    content = dialogue.content_store.get()
    for lang, text in (("en", "how do i check an agent"), ("ur", "ایجنٹ کا لائسنس کیسے چیک کروں"),
                       ("ur-Latn", "agent ka license kaise check karun")):
        turn = run(dialogue.handle_text(f"e-{lang}", nlu.says(text, "verify_agent")))
        assert content.answer("verify_agent", lang) in turn.replies[0].text  # the how-to, as before
        assert "beoe.gov.pk" in turn.replies[-1].text and turn.replies[-1].language == lang
        assert dialogue.states.get(f"e-{lang}").flow is None and turn.case == {}
    turn = run(dialogue.handle_text("e2", "/agent"))
    assert "cannot check agencies in this chat yet" in turn.replies[-1].text


def test_the_register_date_and_its_warning(languages, agencies):
    dialogue, _ = make(languages, agencies, register_date=TODAY - timedelta(days=45))
    start(dialogue, "d", "en")
    turn = run(dialogue.handle_text("d", "0017/RWP"))
    text = turn.replies[-1].text
    assert "Register of Oct 21, 2026." in text
    assert "Warning: this copy of the register is 45 days old" in text and "beoe.gov.pk" in text
    fresh, _ = make(languages, agencies)
    start(fresh, "d", "en")
    assert "Warning" not in run(fresh.handle_text("d", "0017/RWP")).replies[-1].text


def offer_check_until_the_licence_question(dialogue, user):
    turn = run(dialogue.handle_text(user, "/check"))
    turn = run(dialogue.handle_button(user, "oc:kind:job"))
    for _ in range(20):
        asking = dialogue.states.get(user).flow.get("asking")
        if asking == "verified":
            return turn
        turn = run(dialogue.handle_button(user, f"oc:{harmless(dialogue, asking)}:{asking}"))
    raise AssertionError("the licence question was not asked")


def finish(dialogue, user):
    for _ in range(20):
        flow = dialogue.states.get(user).flow
        if flow is None:
            return dialogue.states.get(user).data["last_offer_check"]
        turn = run(dialogue.handle_button(user, f"oc:{harmless(dialogue, flow['asking'])}:{flow['asking']}"))
    raise AssertionError("the check did not end")


def harmless(dialogue, question_id: str) -> str:
    """The answer to a question of the offer check that is not its red flag."""
    flag = dialogue._check(dialogue.content_store.get()).by_id[question_id].flag
    return "no" if flag == "yes" else "yes"


def test_a_licence_typed_in_the_offer_check_feeds_its_score(languages, agencies):
    dialogue, _ = make(languages, agencies)
    offer_check_until_the_licence_question(dialogue, "o1")
    turn = run(dialogue.handle_text("o1", "OEPL No. 0023/LHR"))
    assert "Sample Crescent Star Overseas Employment Promoters" in turn.replies[0].text
    assert turn.case["agent_check"]["status"] == "valid"
    assert dialogue.states.get("o1").flow["answers"]["verified"] == "yes"  # shown and checked
    assert turn.replies[-1].text.startswith("Question")  # the check goes on
    assert finish(dialogue, "o1")["level"] == "low"

    offer_check_until_the_licence_question(dialogue, "o2")
    turn = run(dialogue.handle_text("o2", "his licence is 9999/RWP"))
    assert "The licence number 9999/RWP is not on the register" in turn.replies[0].text
    result = finish(dialogue, "o2")
    assert result["level"] == "high" and "verified: no -> +3 (critical)" in result["breakdown"]

    offer_check_until_the_licence_question(dialogue, "o3")
    run(dialogue.handle_text("o3", "0031/KHI"))  # on the register, but expired: critical too
    assert finish(dialogue, "o3")["level"] == "high"


def test_a_firm_name_in_latin_letters_keeps_the_users_language(languages, agencies):
    dialogue, nlu = make(languages, agencies)
    run(dialogue.handle_text("u", nlu.says("ایجنٹ کا لائسنس کیسے چیک کروں", "verify_agent")))
    assert dialogue.states.get("u").language == "ur"  # detected, not chosen
    turn = run(dialogue.handle_text("u", "sample crescent star overseas employment promoters"))
    assert turn.language == "ur" and "ضروری ہے، کافی نہیں" in turn.replies[-1].text
    turn = run(dialogue.handle_text("u", "0031/KHI"))  # a licence number alone, outside the check: checked
    assert turn.language == "ur" and "Demo Sea Breeze" in turn.replies[-1].text
    assert turn.case["agent_check"]["status"] == "expired"
