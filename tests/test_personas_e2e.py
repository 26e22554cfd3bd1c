"""Issue 23's five people, written anew, through the Telegram front end against the local Bot API server
(tests/botapi_server.py) with the real NLU, in English, Urdu and Roman Urdu. Each test reads what the bot
really sent and what the database holds."""
import re

import pytest
from sqlalchemy.orm import Session

from bot.config import ROOT
from bot.dialogue.content import ContentStore
from bot.dialogue.listening import Listening
from bot.storage.db import CaseRow, OutboxRow
from tests.botapi_server import button_update, text_update
from tests.test_telegram_e2e import buttons, drive, exchange, find_button

pytestmark = pytest.mark.rasa
URDU = re.compile(r"[\u0600-\u06ff]")
STAFF = -100_2323
CONTENT = ContentStore(ROOT / "content").get()
LISTEN = Listening(CONTENT.conversation)


def plain(text: str) -> str:
    """The text without the bidi isolates the renderer adds around numbers and Latin runs in Urdu."""
    return text.replace("\u2066", "").replace("\u2069", "").replace("\u2067", "").replace("\u2068", "")


def payloads(messages) -> list[str]:
    return [data for m in messages for _, data in buttons(m)]


def cases(front) -> list[CaseRow]:
    with Session(front.store.engine) as session:
        return session.query(CaseRow).order_by(CaseRow.id).all()


def test_held_abroad_gets_crisis_mode_in_english(understander, db_url):
    """A young man held in a house in Libya, typing English with typos. Once his urgent case is open every
    message is acknowledged in one short message, never out of scope, never the offer check, never the
    long emergency page again; "should I run?" gets the reviewed answer; the phone advice replaces
    screenshots."""
    async def body(server, front):
        uid = 7101
        opened = await exchange(server, uid, text_update(uid, "they lockd us in a house in tripoli n took our passports, "
                                                              "pls help"))
        assert len(opened) == 1, "one message: the emergency page with the acknowledgement"
        assert "urgent case" in opened[0].text and "Add to my case" in [label for label, _ in buttons(opened[0])]
        case = cases(front)[0]
        assert case.priority == "urgent"
        alert = server.state.messages_to(STAFF)
        assert len(alert) == 1 and "Libya" in alert[0].text
        page_start = CONTENT.answer("emergency", "en").splitlines()[0]
        for text in ("how long?? pls fast they come back at nite", "ok", "we r 6 boys here near zuwara, 2 are sick"):
            new = await exchange(server, uid, text_update(uid, text))
            assert len(new) == 1, text
            reply = new[0].text
            assert reply.startswith(f"Added to your case #{case.id}"), reply
            assert "outside what I can help" not in reply and page_start not in reply
            assert not any(p.startswith(("act:offer_check", "oc:")) for p in payloads(new))
            assert len(reply.split()) < 90, "short: an acknowledgement and one or two lines"
        assert "5 minutes" in server.state.messages_to(uid)[1].text and "Nobody" in server.state.messages_to(uid)[1].text
        assert "with the details you gave" in new[0].text
        new = await exchange(server, uid, text_update(uid, "shud i try to run away at nite?"))
        assert LISTEN.answer(CONTENT, "crisis.run", "en") in new[0].text
        new = await exchange(server, uid, text_update(uid, "they check my phone sometimes, how do i hide this chat"))
        assert "Delete this chat on your phone" in new[0].text
        everything = [m.text for m in server.state.messages_to(uid)]
        assert sum(page_start in t for t in everything) == 1, "the long page once"
        assert len(server.state.messages_to(STAFF)) == 1, "one alert for one case"
        with Session(front.store.engine) as session:
            assert session.get(CaseRow, case.id).entities.get("country", [])[-1:] == ["Libya"]

    drive(understander, db_url, body, staff_chat_id=str(STAFF))


def test_father_checks_an_offer_in_roman_urdu(understander, db_url):
    """A father in Hunza, Roman Urdu: his description starts the check with what he told carried in; a
    typed "nahi" is repeated back; "haan" plus a detail keeps the detail; a question about the service
    is answered inside the check, whose question follows in the same message."""
    async def body(server, front):
        uid = 7102
        new = await exchange(server, uid, text_update(uid, "mere bete ko Italy mein kaam ka visa mil raha hai, agent "
                                                           "18 lakh maang raha hai aur aadha abhi cash mein",
                                                      language_code="de"))
        assert len(new) == 1
        text = plain(new[0].text)
        assert "Aap ne jo bataya us ke mutabiq:" in text and "Italy" in text
        assert any(p.startswith("oc:yes:") for p in payloads(new)) and "oc:restart" in payloads(new)
        new = await exchange(server, uid, text_update(uid, "nahi", language_code="de"))
        assert len(new) == 1 and new[0].text.startswith("Note kar liya:")
        assert any(p.startswith("oc:undo:") for p in payloads(new))
        new = await exchange(server, uid, text_update(uid, "haan 9 lakh cash abhi mang raha hai", language_code="de"))
        assert len(new) == 1 and new[0].text.startswith("Note kar liya:")
        assert "note ke taur par" in new[0].text and "Licensed OEP" not in new[0].text, "no topic page"
        new = await exchange(server, uid, text_update(uid, "kya is service ke paise lagte hain?", language_code="de"))
        assert len(new) == 1 and "free" in new[0].text and any(p.startswith("oc:yes:") for p in payloads(new))
        assert cases(front) == [], "no case opened by a check or a question"

    drive(understander, db_url, body)


def test_student_in_urdu_is_welcomed_and_heard(understander, db_url):
    """A student writing Urdu, Telegram in Urdu: the welcome comes in Urdu at once; a feeling in the check
    is acknowledged in a line and the question follows; a typed yes is repeated back in Urdu."""
    async def body(server, front):
        uid = 7103
        new = await exchange(server, uid, text_update(uid, "/start", language_code="ur"))
        assert len(new) == 1 and URDU.search(new[0].text)
        assert not any(p.startswith("lang:") for p in payloads(new)), "no language choice first"
        new = await exchange(server, uid, text_update(uid, "/check", language_code="ur"))
        message, data = find_button(new, "oc:kind:study")
        new = await exchange(server, uid, button_update(uid, data, message))
        new = await exchange(server, uid, text_update(uid, "مجھے بہت ڈر لگ رہا ہے، یہ میرے والدین کی جمع پونجی ہے",
                                                      language_code="ur"))
        assert len(new) == 1 and plain(new[0].text).startswith("میں سمجھتا ہوں کہ یہ پریشانی کی بات ہے")
        assert any(p.startswith("oc:yes:") for p in payloads(new))
        new = await exchange(server, uid, text_update(uid, "جی نہیں", language_code="ur"))
        assert len(new) == 1 and plain(new[0].text).startswith("نوٹ کر لیا:")

    drive(understander, db_url, body)


def test_reporter_asks_questions_inside_the_form(understander, db_url):
    """Someone reporting a fake agent in Gilgit: questions typed in the form are answered from the content
    and the form's question follows; they are never saved as answers; a typed yes answers "may we
    contact you"; Send opens a high case."""
    async def body(server, front):
        uid = 7104
        await exchange(server, uid, text_update(uid, "/report"))
        await exchange(server, uid, text_update(uid, "A man in Gilgit took 2 lakh from my cousin for a Saudi visa "
                                                     "and gave no receipt"))
        new = await exchange(server, uid, text_update(uid, "wait, will the agent know it was me?"))
        assert len(new) == 1
        assert new[0].text.startswith(LISTEN.answer(CONTENT, "questions.report_privacy", "en"))
        assert "Report: question 2 of 5" in new[0].text
        await exchange(server, uid, text_update(uid, "Karakoram Manpower"))
        await exchange(server, uid, text_update(uid, "Gilgit, Jamat Khana bazaar"))
        new = await exchange(server, uid, text_update(uid, "will my name be given to the police or the agent?"))
        assert "Report: question 4 of 5" in new[0].text
        assert new[0].text.startswith(LISTEN.answer(CONTENT, "questions.report_fia", "en")), "the next answer"
        await exchange(server, uid, text_update(uid, "2 lakh cash"))
        new = await exchange(server, uid, text_update(uid, "yes"))
        assert "Please check your report" in new[0].text
        message, data = find_button(new, "rf:send")
        await exchange(server, uid, button_update(uid, data, message))
        [case] = cases(front)
        assert case.priority == "high" and case.report["where"] == "Gilgit, Jamat Khana bazaar"
        assert "?" not in case.report["who"] and "?" not in case.report["where"]

    drive(understander, db_url, body)


def test_curious_user_menus_and_a_person(understander, db_url):
    """Someone trying the menus in Roman Urdu: "are you a bot?" is answered without a case; /help lists
    every command; the menu offers Report an agent; a request for a woman counsellor opens a normal case
    that records it, and staff see it in the summary; the case number is said once."""
    async def body(server, front):
        uid = 7105
        new = await exchange(server, uid, text_update(uid, "/start", language_code=""))
        message, data = find_button(new, "lang:ur-Latn")  # no known language: the choice first
        await exchange(server, uid, button_update(uid, data, message))
        new = await exchange(server, uid, text_update(uid, "kya aap insaan ho ya bot?"))
        assert "act:human" in payloads(new) and cases(front) == []
        new = await exchange(server, uid, text_update(uid, "/help"))
        for command in ("/check", "/report", "/hotline", "/menu", "/language", "/privacy", "/delete_me", "/help"):
            assert command in new[0].text
        new = await exchange(server, uid, text_update(uid, "/menu"))
        assert "act:report" in payloads(new)
        new = await exchange(server, uid, text_update(uid, "mujhe kisi khatoon counsellor se baat karni hai"))
        assert len(new) == 1 and "khatoon" in new[0].text
        [case] = cases(front)
        assert case.priority == "normal" and "asks for a woman counsellor" in case.summary
        await exchange(server, uid, text_update(uid, "dunki route kya hota hai"))
        again = await exchange(server, uid, text_update(uid, "ghar walon ko kaise samjhaun"))
        told = [m for m in server.state.messages_to(uid) if f"case number {case.id}" in m.text]
        assert len(told) == 1, "the case number once"
        assert all(len(new_) for new_ in (again,))
        with Session(front.store.engine) as session:
            assert {r.kind for r in session.query(OutboxRow).all()} == {"reply"}, "normal: no staff alert"

    drive(understander, db_url, body, staff_chat_id=str(STAFF))
