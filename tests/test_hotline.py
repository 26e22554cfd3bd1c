"""The hotline queue through the conversation service, on SQLite and on PostgreSQL (fake NLU: fast):
what escalates with what priority, one open case per user, the report form, acknowledgements with the
case number, staff alerts in the outbox, duplicates, erasure, the outbox's claims, retention."""
import asyncio
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import ROOT
from bot.contract import load_contract
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from bot.hotline.service import ConversationService
from bot.i18n import I18n
from bot.language import LanguageIdentifier
from bot.safety import DangerNet
from bot.storage.db import AuditRow, CaseRow, MessageRow, OutboxRow, StaffRow, UserRow, make_engine, utcnow
from bot.storage.hotline_store import HotlineStore, Inbound, Outbox
from bot.understanding import Understander
from tests.fakes import KeywordNLU

STAFF_CHAT = "-100777"
LIBYA = [{"entity": "country", "value": "Libya", "start": 0, "end": 5}]
RULES = {"locked": "emergency", "tripoli": "emergency", "trafficking": "define_trafficking",
         "person": "ask_human", "report": "report_suspect", "agent license": "verify_agent", "yes": "affirm"}


@pytest.fixture(scope="module")
def languages():
    return LanguageIdentifier.from_training_data(ROOT / "nlu" / "data")


@pytest.fixture
def hotline(db_url, languages):
    engine = make_engine(db_url)
    nlu = KeywordNLU(RULES, {"locked": LIBYA})
    understander = Understander(nlu, languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                load_contract())
    i18n = I18n()
    dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n)
    store = HotlineStore(engine, staff_chat_id=STAFF_CHAT, console_url="https://console.example")
    service = ConversationService(dialogue, store, i18n)
    yield service, engine
    engine.dispose()


def send(service, user, text, kind=None, update_id=None, **meta):
    kind = kind or ("command" if text.startswith("/") else "text")
    inbound = Inbound("tg", str(user), str(user), kind, text, meta=meta, source="tg", update_id=update_id)
    return asyncio.run(service.handle(inbound))


def rows(engine, model, *where):
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        return session.scalars(select(model).where(*where).order_by(model.id if hasattr(model, "id") else None)).all()


def press(service, user, handled, prefix):
    for reply in reversed(handled.replies):
        for row in reply.buttons:
            for button in row:
                if button.payload.startswith(prefix):
                    return send(service, user, button.payload, kind="button")
    raise AssertionError(f"no button {prefix}: {[[b.payload for r in x.buttons for b in r] for x in handled.replies]}")


def test_urgent_message_opens_a_case_at_once_with_transcript_alert_and_acknowledgement(hotline):
    service, engine = hotline
    send(service, 11, "what is trafficking")
    handled = send(service, 11, "they locked my brother in a room in tripoli")
    cases = rows(engine, CaseRow)
    assert len(cases) == 1
    case = cases[0]
    assert (case.priority, case.priority_rank, case.status) == ("urgent", 0, "new")
    assert case.reason in ("emergency", "safety_net")
    assert case.entities == {"country": ["Libya"]}
    assert [m["direction"] for m in case.transcript] == ["in", "out"]  # what came before the case
    assert case.transcript[0]["text"] == "what is trafficking"
    texts = [r.text for r in handled.replies]
    assert any("1122" in t for t in texts), "the emergency numbers from content"
    assert f"urgent case (number {case.id})" in texts[-1]
    # the replies, then one staff alert: in the outbox of the same transaction, alert last
    kinds = [item.kind for item in handled.outbox]
    assert kinds[-1] == "staff_alert" and set(kinds[:-1]) == {"reply"}
    alert = rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")
    assert len(alert) == 1 and alert[0].chat_id == STAFF_CHAT
    body = alert[0].payload["text"]
    assert f"case #{case.id}" in body and "URGENT" in body and "https://console.example/cases/" in body
    assert "brother" not in body and "locked" not in body, "no words of the user in the staff group"
    assert rows(engine, AuditRow, AuditRow.action == "case_opened")


def test_the_case_and_the_alert_say_what_fired(hotline):
    service, engine = hotline
    send(service, 13, "they are beating my brother in a room, please")
    case = rows(engine, CaseRow)[0]
    assert case.priority == "urgent" and case.reason == "safety_net"
    assert "beat/" in case.fired_by and "p(emergency) 0.00" in case.fired_by  # the console shows the phrases
    assert "fired: strong danger phrase ×" in case.summary and "p(emergency) 0.00" in case.summary
    alert = rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")[0].payload["text"]
    assert "fired: strong danger phrase" in alert and "beat" not in alert and "brother" not in alert
    message = rows(engine, MessageRow, MessageRow.direction == "in")[0]
    assert message.meta["safety"]["matched"] and message.meta["safety"]["source"] == "lexicon"


def test_an_ambiguous_message_asks_then_yes_opens_an_urgent_case_and_no_does_not(hotline):
    service, engine = hotline
    asked = send(service, 14, "my cousin has gone missing near the border")
    assert rows(engine, CaseRow) == []
    # one message: the numbers, then the question with its buttons
    assert "1122" in asked.replies[-1].text and asked.replies[-1].text.endswith("Is someone in danger right now?")
    yes = press(service, 14, asked, "dg:yes")
    case = rows(engine, CaseRow)[0]
    assert (case.priority, case.reason) == ("urgent", "safety_net")
    assert case.fired_by.startswith("asked; the user answered yes") and "missing" in case.fired_by
    assert "fired: asked, answered yes · ambiguous danger phrase ×1" in case.summary
    assert "urgent case" in yes.replies[-1].text and rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")
    asked = send(service, 15, "my cousin has gone missing near the border")
    no = press(service, 15, asked, "dg:no")
    assert len(rows(engine, CaseRow)) == 1 and "Thank you" in no.replies[0].text
    send(service, 16, "my cousin has gone missing near the border")
    other = send(service, 16, "what is trafficking")  # no answer: the conversation goes on
    assert "Human trafficking" in other.replies[0].text and len(rows(engine, CaseRow)) == 1


def test_an_open_case_collects_new_messages_and_media_without_duplicates(hotline):
    service, engine = hotline
    send(service, 12, "they locked my brother in a room in tripoli")
    handled = send(service, 12, "what is trafficking")  # a general question is still answered
    assert "Human trafficking" in handled.replies[0].text
    # crisis mode: one message, the acknowledgement first, then the short answer
    assert len(handled.replies) == 1 and handled.replies[0].text.startswith("Added to your case #")
    media = send(service, 12, "", kind="media", media="photo", file_id="F1")
    assert "photo was added to your case" in media.replies[-1].text
    again = send(service, 12, "they locked him again")
    assert len(rows(engine, CaseRow)) == 1
    case = rows(engine, CaseRow)[0]
    inbound = rows(engine, MessageRow, MessageRow.case_id == case.id, MessageRow.direction == "in")
    assert [m.kind for m in inbound] == ["text", "text", "media", "text"]
    assert inbound[2].meta["file_id"] == "F1"
    assert len(rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")) == 1, "no second alert for the same case"
    assert again.case.joined and not again.case.opened


def test_request_for_a_human_is_normal_and_an_emergency_raises_it_to_urgent(hotline):
    service, engine = hotline
    handled = send(service, 13, "i want to talk to a person")
    case = rows(engine, CaseRow)[0]
    assert (case.priority, case.reason) == ("normal", "human")
    assert "case number" in handled.replies[-1].text
    assert rows(engine, OutboxRow, OutboxRow.kind == "staff_alert") == [], "normal cases are not alerted"
    send(service, 13, "they locked my brother in a room in tripoli")
    cases = rows(engine, CaseRow)
    assert len(cases) == 1 and cases[0].priority == "urgent" and cases[0].priority_rank == 0
    alerts = rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")
    assert len(alerts) == 1 and "priority raised" in alerts[0].payload["text"]


def test_report_form_review_change_and_send_makes_a_high_case(hotline):
    service, engine = hotline
    handled = send(service, 14, "/report")
    assert "question 1 of 5" in handled.replies[-1].text
    assert rows(engine, CaseRow) == []
    send(service, 14, "Agent promised a job in Dubai and took 3 lakh")
    handled = send(service, 14, "Khan Overseas")
    handled = press(service, 14, handled, "rf:skip")  # where: skipped
    handled = send(service, 14, "300000 rupees cash")
    handled = press(service, 14, handled, "rf:yes")  # may contact
    review = handled.replies[-1].text
    assert "Khan Overseas" in review and "(skipped)" in review and "Send it to the SafeSafar team?" in review
    assert rows(engine, CaseRow) == [], "nothing is sent before Send"
    handled = press(service, 14, handled, "rf:change")
    handled = press(service, 14, handled, "rf:edit:where")
    handled = send(service, 14, "Gilgit")
    assert "Gilgit" in handled.replies[-1].text  # back at the review
    handled = press(service, 14, handled, "rf:send")
    case = rows(engine, CaseRow)[0]
    assert (case.priority, case.reason) == ("high", "report")
    assert case.report == {"what": "Agent promised a job in Dubai and took 3 lakh", "who": "Khan Overseas",
                           "where": "Gilgit", "money": "300000 rupees cash", "contact": True}
    assert f"case number {case.id}" in handled.replies[-1].text
    assert len(rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")) == 1


def test_report_form_can_be_cancelled_at_any_step_and_sends_nothing(hotline):
    service, engine = hotline
    send(service, 15, "/report")
    send(service, 15, "a consultant asked for my passport")
    handled = send(service, 15, "cancel")
    assert "cancelled" in handled.replies[0].text
    handled = send(service, 16, "/report")
    handled = press(service, 16, handled, "rf:cancel")
    assert "cancelled" in handled.replies[0].text
    assert rows(engine, CaseRow) == []


def test_report_in_urdu_with_no_contact(hotline):
    service, engine = hotline
    handled = send(service, 17, "/language")
    handled = press(service, 17, handled, "lang:ur")
    handled = send(service, 17, "/report")
    assert "رپورٹ" in handled.replies[-1].text and handled.replies[-1].rtl
    send(service, 17, "ایجنٹ نے ویزا کے پیسے لیے اور غائب ہو گیا")
    handled = send(service, 17, "نامعلوم ایجنٹ")
    handled = send(service, 17, "اسکردو")
    handled = press(service, 17, handled, "rf:skip")
    handled = press(service, 17, handled, "rf:no")
    handled = press(service, 17, handled, "rf:send")
    case = rows(engine, CaseRow)[0]
    assert case.language == "ur" and case.report["contact"] is False and case.report["money"] is None
    assert "رابطہ نہیں" in handled.replies[-1].text, handled.replies[-1].text


def test_high_risk_offer_check_passed_on_is_high_with_the_result(hotline):
    service, engine = hotline
    handled = send(service, 18, "/check")
    handled = press(service, 18, handled, "oc:kind:job")
    for _ in range(30):
        payloads = [b.payload for r in handled.replies for row in r.buttons for b in row]
        question = next((p.split(":")[2] for p in payloads if p.startswith("oc:yes:")), None)
        if question is None:
            break
        handled = send(service, 18, f"oc:yes:{question}", kind="button")
    handled = press(service, 18, handled, "act:pass_check")
    case = rows(engine, CaseRow)[0]
    assert (case.priority, case.reason) == ("high", "offer_check")
    assert case.offer_check["level"] == "high" and case.offer_check["answers"]
    assert "offer check" in case.summary and "offer check has been passed" in handled.replies[-1].text


def test_the_same_update_twice_is_processed_once(hotline):
    service, engine = hotline
    first = send(service, 19, "they locked my brother in a room in tripoli", update_id=500)
    second = send(service, 19, "they locked my brother in a room in tripoli", update_id=500)
    assert first.outbox and second.duplicate and not second.outbox
    assert len(rows(engine, CaseRow)) == 1 and len(rows(engine, MessageRow, MessageRow.direction == "in")) == 1


@pytest.mark.parametrize("received", [True, False])
def test_the_same_update_handled_twice_at_once_is_stored_once(hotline, received):
    """Two workers with the same update at the same moment (a redelivery): one turn is stored, the
    other finds the update done, whether or not the inbox had the update before the turn."""
    service, engine = hotline
    if received:
        assert service.store.receive("tg", 777, {"update_id": 777})

    async def twice():
        inbound = Inbound("tg", "31", "31", "text", "what is the dunki route", source="tg", update_id=777)
        return await asyncio.gather(service.handle(inbound), service.handle(inbound), return_exceptions=True)

    results = asyncio.run(twice())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(bool(r.outbox) for r in results) == [False, True]
    assert len(rows(engine, MessageRow, MessageRow.direction == "in")) == 1
    from bot.storage.db import InboxRow

    assert [r.status for r in rows(engine, InboxRow)] == ["done"]


def test_the_updates_of_one_getupdates_answer_are_stored_in_one_transaction(hotline):
    """DurableQueue (the Telegram update queue) stores the updates of a long-polling answer as received,
    together, before the first is queued; a duplicate (same update_id) is dropped."""
    from telegram import Update

    from bot.storage.db import InboxRow
    from bot.telegram.polling import PollingRequest
    from bot.telegram.app import DurableQueue
    from tests.botapi_server import text_update

    service, engine = hotline
    sent = [dict(text_update(40 + i, f"question {i}"), update_id=900 + i) for i in range(3)]
    polling = PollingRequest()
    polling.parse_json_payload(json.dumps({"ok": True, "result": sent}).encode())
    store = service.store
    calls = []
    for name in ("receive", "receive_many"):
        original = getattr(store, name)
        setattr(store, name, lambda *args, _o=original, _n=name: calls.append(_n) or _o(*args))

    async def put_all():
        queue = DurableQueue(store, polling.take_answer)
        for raw in [*sent, sent[1]]:  # the second one twice
            await queue.put(Update.de_json(raw, None))
        return [queue.get_nowait().update_id for _ in range(queue.qsize())]

    assert asyncio.run(put_all()) == [900, 901, 902]
    assert calls == ["receive_many", "receive"]  # the repeat is not in an answer any more: stored alone, refused
    stored = {r.update_id: r.payload for r in rows(engine, InboxRow)}
    assert stored == {u["update_id"]: u for u in sent}


def test_delete_me_erases_the_conversation_but_the_open_case_stays_with_the_hotline(hotline):
    service, engine = hotline
    send(service, 20, "what is trafficking")
    send(service, 21, "what is trafficking")
    send(service, 21, "i want to talk to a person")
    for user in (20, 21):
        handled = send(service, user, "/delete_me")
        handled = press(service, user, handled, "del:yes")
    assert "stays with the team" in handled.replies[-1].text
    users = rows(engine, UserRow)
    assert [u.external_id for u in users] == ["21"], "a user without a case is gone entirely"
    kept = rows(engine, MessageRow)
    assert kept and all(m.case_id is not None for m in kept)
    assert service.store.language_of("tg:20") is None and service.store.language_of("tg:21") is None


def test_many_users_escalating_at_once_each_get_exactly_one_case_and_alert(hotline):
    service, engine = hotline

    async def everyone():
        inbound = [Inbound("tg", str(1000 + i), str(1000 + i), "text", "they locked my brother in a room in tripoli",
                           source="tg", update_id=10_000 + i) for i in range(40)]
        # each user sends twice at once (a retried delivery and a second message)
        again = [Inbound("tg", str(1000 + i), str(1000 + i), "text", "please help they locked him",
                         source="tg", update_id=20_000 + i) for i in range(40)]
        return await asyncio.gather(*(service.handle(m) for m in inbound + again), return_exceptions=True)

    results = asyncio.run(everyone())
    assert not [r for r in results if isinstance(r, Exception)], [r for r in results if isinstance(r, Exception)][:3]
    cases = rows(engine, CaseRow)
    assert len(cases) == 40 and len({c.user_id for c in cases}) == 40
    assert len(rows(engine, OutboxRow, OutboxRow.kind == "staff_alert")) == 40


def test_two_outbox_workers_deliver_each_row_once(db_url):
    engine = make_engine(db_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        for i in range(150):
            session.add(OutboxRow(kind="reply", dedupe_key=f"k{i}", chat_id="1", payload={"text": str(i)},
                                  status="pending", next_attempt_at=utcnow()))
    delivered: list[int] = []
    lock = threading.Lock()

    def worker():
        own = make_engine(db_url)
        outbox = Outbox(own)
        while True:
            items = outbox.claim(limit=7)
            if not items:
                break
            with lock:
                delivered.extend(int(i.payload["text"]) for i in items)
            outbox.sent(*[i.id for i in items])
        own.dispose()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(delivered) == list(range(150)), "every row exactly once"
    assert all(r.status == "sent" for r in rows(engine, OutboxRow))
    engine.dispose()


def test_outbox_failure_backs_off_and_a_dead_workers_rows_are_taken_over(db_url):
    engine = make_engine(db_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session, session.begin():
        session.add(OutboxRow(kind="staff_alert", dedupe_key="a", chat_id="1", payload={}, status="pending",
                              next_attempt_at=utcnow()))
        session.add(OutboxRow(kind="staff_alert", dedupe_key="b", chat_id="1", payload={}, status="pending",
                              next_attempt_at=utcnow(), locked_by="nohost:1:x", locked_until=utcnow() + timedelta(hours=1)))
    outbox = Outbox(engine)
    first = outbox.claim()
    assert [i.id for i in first] == [1], "a row leased by another worker is not taken"
    outbox.failed(1, "NetworkError")
    assert outbox.claim() == [], "backoff: not at once"
    later = Outbox(engine, clock=lambda: utcnow() + timedelta(seconds=5))
    assert [i.id for i in later.claim()] == [1]
    # a worker of this host whose process is gone
    import socket

    dead = Outbox(engine)
    dead.worker = f"{socket.gethostname()[:30]}:{2**22 + 12345}:dead"
    with Session(engine) as session, session.begin():
        session.get(OutboxRow, 2).locked_by = dead.worker
    assert outbox.release_dead_workers() == 1
    assert [i.id for i in outbox.claim()] == [2]
    assert Outbox(engine).release_dead_workers() == 0, "a live worker's claim (row 2, just taken) is left alone"
    engine.dispose()


def test_staff_group_commands_only_from_registered_staff(hotline):
    from bot.hotline.staff_group import staff_command
    from sqlalchemy.orm import Session

    service, engine = hotline
    send(service, 22, "they locked my brother in a room in tripoli")
    assert "Only registered hotline staff" in staff_command(service.store, "999", "/queue")
    with Session(engine) as session, session.begin():
        session.add(StaffRow(username="amina", password_hash="x", role="agent", telegram_id="4242"))
    text = staff_command(service.store, "4242", "/queue")
    assert "urgent 1" in text and "#1" in text and "brother" not in text
    assert staff_command(service.store, "4242", "hello") is None
    refused = rows(engine, AuditRow, AuditRow.action == "staff_group_refused")
    assert len(refused) == 1


def test_purge_keeps_open_cases_and_deletes_old_conversations(hotline, db_url):
    from bot.storage.retention import purge

    service, engine = hotline
    send(service, 30, "what is trafficking")
    send(service, 31, "i want to talk to a person")
    later = utcnow() + timedelta(days=200)
    assert purge(db_url, days=180, dry_run=True, now=later)["messages"] == 2
    counts = purge(db_url, days=180, now=later)
    assert counts["messages"] == 2 and counts["cases"] == 0
    assert {m.user_id for m in rows(engine, MessageRow)} == {rows(engine, CaseRow)[0].user_id}
    with pytest.raises(ValueError):
        purge(db_url, days=0)


class DownNLU:
    async def parse(self, text):
        raise ConnectionError("the NLU server is down")


@pytest.mark.parametrize("text, urgent", [("they locked my brother in a room in tripoli", True),
                                          ("what documents do i need for a student visa", False)])
def test_while_the_nlu_is_down_danger_phrases_still_open_an_urgent_case(db_url, languages, text, urgent):
    engine = make_engine(db_url)
    understander = Understander(DownNLU(), languages,
                                DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                                load_contract(), tolerate_nlu_outage=True)
    i18n = I18n()
    dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n)
    service = ConversationService(dialogue, HotlineStore(engine, staff_chat_id=STAFF_CHAT), i18n)
    handled = send(service, 40, text)
    cases = rows(engine, CaseRow)
    if urgent:
        assert len(cases) == 1 and cases[0].priority == "urgent" and cases[0].reason == "safety_net"
        assert any("1122" in r.text for r in handled.replies)
    else:
        assert cases == [] and handled.replies, "an unsure answer with the menu, not a crash"
    strict = Understander(DownNLU(), languages, DangerNet.from_file(ROOT / "content" / "safety" / "danger_lexicon.yml"),
                          load_contract())
    with pytest.raises(ConnectionError):  # `classify` must not hide an outage
        asyncio.run(strict.understand(text))
    engine.dispose()


def test_the_inbox_stores_an_update_once(hotline):
    """receive() is the duplicate check of every Telegram update (one INSERT ... ON CONFLICT DO NOTHING
    RETURNING on SQLite and PostgreSQL): True for a new update, False when it is there already."""
    from bot.storage.db import InboxRow

    service, engine = hotline
    store = service.store
    assert store.receive("tg", 41, {"update_id": 41, "message": {"text": "salam"}}) is True
    assert store.receive("tg", 41, {"update_id": 41, "message": {"text": "changed"}}) is False
    assert store.receive("web", 41, {}) is True  # another channel's update 41 is another update
    assert store.receive("tg", 42, {}) is True
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        stored = session.scalars(select(InboxRow).order_by(InboxRow.source, InboxRow.update_id)).all()
        assert [(r.source, r.update_id, r.status) for r in stored] == [("tg", 41, "new"), ("tg", 42, "new"),
                                                                        ("web", 41, "new")]
        assert stored[0].payload["message"]["text"] == "salam"  # the duplicate changed nothing


def test_database_work_runs_on_the_loop_for_sqlite_and_in_threads_for_postgresql(db_url):
    """SQLite transactions run on the event loop's thread (a hop to a thread cost more than the work);
    PostgreSQL's in a pool of threads, so a lock wait never stops the loop."""
    import threading

    from bot.storage.executor import run_db

    engine = make_engine(db_url)

    async def where() -> tuple[int, int]:
        return threading.get_ident(), await run_db(engine, threading.get_ident)

    loop_thread, db_thread = asyncio.run(where())
    assert (loop_thread == db_thread) == (engine.dialect.name == "sqlite")
    engine.dispose()


def test_the_per_user_message_limit_comes_from_the_settings(monkeypatch):
    from bot.config import Settings

    monkeypatch.setenv("USER_RATE_PER_MINUTE", "6")
    monkeypatch.setenv("USER_BURST", "2")
    settings = Settings.from_env()
    assert (settings.user_rate_per_minute, settings.user_burst) == (6.0, 2)


def test_the_wal_checkpointer_takes_checkpoints_off_the_committing_connections(tmp_path, caplog):
    """While it runs, the engine's connections never checkpoint (a checkpoint syncs the file: 10-30 ms
    on the event loop); its thread does. Stopped, the connections checkpoint themselves again."""
    import sqlite3
    import time

    from sqlalchemy import text as sql

    from bot.storage.db import WalCheckpointer

    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.begin() as conn:
        conn.execute(sql("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
    checkpointer = WalCheckpointer(engine, interval=0.05).start()
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        for _ in range(50):
            with engine.begin() as conn:
                conn.execute(sql("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 4000})
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.checkpoints >= 2
        probe = sqlite3.connect(tmp_path / "wal.db", isolation_level=None)  # everything logged is in the file
        busy, logged, done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        probe.close()
        assert busy == 0 and logged == done
        broken = sqlite3.connect(":memory:")
        broken.close()
        counted = checkpointer.checkpoints
        checkpointer._checkpoint(broken)  # a failed checkpoint is logged; the thread goes on
        assert checkpointer.checkpoints == counted and "WAL checkpoint failed" in caplog.text
    finally:
        checkpointer.stop()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 50
    engine.dispose()


def test_staff_group_case_numbers_are_checked(hotline):
    """`/case N` with a number no case can have (beyond the id column's 32 bits, or digits that are not
    ASCII) is a usage hint, not an error from the database or from int()."""
    from bot.hotline.staff_group import staff_command
    from sqlalchemy.orm import Session

    service, engine = hotline
    send(service, 23, "they locked my brother in a room in tripoli")
    with Session(engine) as session, session.begin():
        session.add(StaffRow(username="bano", password_hash="x", role="agent", telegram_id="4343"))
    assert staff_command(service.store, "4343", "/case #1").startswith("#1 ")
    for number in ("9223372036854775808", "2147483648", "²", "١", "1.0", "-1", ""):
        assert staff_command(service.store, "4343", f"/case {number}") == "Usage: /case N", number
    assert staff_command(service.store, "4343", "/case 999999999") == "No such case."
