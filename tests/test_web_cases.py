"""Staff console: the queue (order, views, counters, overdue), the case page (escaping, transcript), claim,
take over, assign, reply through the outbox, notes, status, reopen, canned replies, the audit log, staff
accounts, the Urdu interface. SQLite and PostgreSQL (db_url)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from bot.web import store
from tests.web_support import PASSWORD, Harness, add_case, add_message, add_staff, add_user, get_case, rows

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def case_ids_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-case="(\d+)"', html)]


def audit_actions(engine, case_id=None) -> list[str]:
    return [a.action for a in rows(engine, store.audit_t) if case_id is None or a.case_id == case_id]


def post(console: Harness, client, path: str, **data):
    return client.post(path, data={"csrf": console.token(client, "/content"), **data})


def test_queue_urgent_first_then_oldest(console: Harness):
    engine, now = console.engine, console.clock.now
    normal_old = add_case(engine, priority="normal", created_at=now - timedelta(hours=3))
    urgent_new = add_case(engine, priority="urgent", created_at=now - timedelta(minutes=1))
    high_mid = add_case(engine, priority="high", created_at=now - timedelta(minutes=20))
    urgent_old = add_case(engine, priority="urgent", created_at=now - timedelta(minutes=2))
    normal_new = add_case(engine, priority="normal", created_at=now - timedelta(minutes=5))
    high_old = add_case(engine, priority="high", created_at=now - timedelta(hours=2))
    client = console.as_staff("agent1", "agent")
    page = client.get("/queue")
    assert page.status_code == 200
    assert case_ids_in(page.text) == [urgent_old, urgent_new, high_old, high_mid, normal_old, normal_new]
    assert case_ids_in(client.get("/api/queue").json()["html"]) == case_ids_in(page.text)


def test_views_and_counters(console: Harness):
    engine, now = console.engine, console.clock.now
    me = add_staff(engine, "me", "agent")
    other = add_staff(engine, "other", "agent")
    unassigned = [add_case(engine, created_at=now - timedelta(minutes=i)) for i in range(3)]
    reopened = add_case(engine, status="reopened", created_at=now - timedelta(minutes=9))
    mine = [add_case(engine, status=s, assigned_to=me) for s in ("claimed", "waiting")]
    theirs = add_case(engine, status="claimed", assigned_to=other)
    resolved = [add_case(engine, status="resolved", assigned_to=me, resolved_at=now - timedelta(minutes=i))
                for i in (5, 1)]
    client, _ = console.login("me")
    views = {view: client.get(f"/api/queue?view={view}").json() for view in store.VIEWS}
    assert set(views["unassigned"]["ids"]) == set(unassigned + [reopened])
    assert set(views["mine"]["ids"]) == set(mine)
    assert set(views["all"]["ids"]) == set(unassigned + [reopened] + mine + [theirs])
    assert views["resolved"]["ids"] == [resolved[1], resolved[0]]  # the latest resolved first
    counts = views["all"]["counts"]
    assert {k: counts[k] for k in store.VIEWS} == {"unassigned": 4, "mine": 2, "all": 7, "resolved": 2}
    page = client.get("/queue?view=mine").text
    assert re.search(r'data-count="mine">2<', page) and re.search(r'data-count="unassigned">4<', page)
    assert set(case_ids_in(page)) == set(mine)


def test_overdue_cases_are_marked_with_a_word_and_a_class(console: Harness):
    engine, now = console.engine, console.clock.now
    urgent_late = add_case(engine, priority="urgent", created_at=now - timedelta(minutes=6))
    urgent_ok = add_case(engine, priority="urgent", created_at=now - timedelta(minutes=4))
    high_late = add_case(engine, priority="high", created_at=now - timedelta(minutes=31))
    normal_ok = add_case(engine, priority="normal", created_at=now - timedelta(hours=3, minutes=59))
    answered = add_case(engine, priority="urgent", created_at=now - timedelta(hours=1))
    with engine.begin() as conn:
        conn.execute(update(store.cases).where(store.cases.c.id == answered)
                     .values(first_response_at=now - timedelta(minutes=50)))  # 10 minutes: late, not overdue
    client = console.as_staff("agent1", "agent")
    html = client.get("/queue?view=all").text
    rows_html = {int(m.group(1)): m.group(0) for m in re.finditer(r'<tr class="[^"]*" data-case="(\d+)">.*?</tr>', html, re.S)}
    overdue = {cid for cid, row in rows_html.items() if "is-overdue" in row and "OVERDUE" in row}
    assert overdue == {urgent_late, high_late}
    assert "late" in rows_html[answered] and "OVERDUE" not in rows_html[answered]
    assert "due in" in rows_html[urgent_ok] and "due in" in rows_html[normal_ok]
    assert re.search(r'data-count="overdue">2<', html)
    assert "OVERDUE" in client.get(f"/cases/{urgent_late}").text
    assert "OVERDUE" not in client.get(f"/cases/{urgent_ok}").text


def test_user_supplied_text_is_escaped(console: Harness):
    engine = console.engine
    case_id = add_case(engine, summary=f"summary {XSS}", report={"what": f"report {XSS}", "who": "agent X"},
                       entities={"country": [f"country {XSS}"]},
                       offer_check={"kind": "job", "level": "high", "total": 9, "answers": {"q1": f"answer {XSS}"},
                                    "breakdown": [f"breakdown {XSS}"]},
                       transcript=[{"direction": "in", "kind": "text", "text": f"before {XSS}", "at": "2026-11-29T07:00:00+00:00"}])
    add_message(engine, case_id, f"message {XSS}")
    client = console.as_staff("agent1", "agent")
    post(console, client, f"/cases/{case_id}/notes", text=f"note {XSS}")
    for html in (client.get(f"/cases/{case_id}").text, client.get(f"/api/cases/{case_id}").json()["html"],
                 client.get("/queue").text):
        assert "<script>alert" not in html and "<img src=x" not in html
    page = client.get(f"/cases/{case_id}").text
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    for where in ("summary", "report", "country", "answer", "breakdown", "before", "message", "note"):
        assert f"{where} {escaped}" in page, where


def test_the_case_page_shows_what_made_it_urgent(console: Harness):
    engine = console.engine
    fired = "beat/… @obj · p(emergency) 0.12"
    case_id = add_case(engine, priority="urgent", reason="safety_net", fired_by=fired)
    other = add_case(engine, priority="normal", reason="human")
    client = console.as_staff("agent1", "agent")
    page = client.get(f"/cases/{case_id}").text
    assert "Triggered by" in page
    assert '<bdi dir="auto">beat/… @obj</bdi> · <bdi dir="auto">p(emergency) 0.12</bdi>' in page
    assert "Triggered by" not in client.get(f"/cases/{other}").text
    # Urdu phrases and the Latin probability each in their own isolate: the probability is never drawn
    # right to left inside the Urdu run ("0.00(emergency)p")
    urdu = add_case(engine, priority="urgent", reason="safety_net", fired_by="کمرے/… میں بند · p(emergency) 0.00")
    page = client.get(f"/cases/{urdu}").text
    assert '<bdi dir="auto" lang="ur">کمرے/… میں بند</bdi> · <bdi dir="auto">p(emergency) 0.00</bdi>' in page


def test_transcript_snapshot_then_case_messages(console: Harness):
    engine = console.engine
    case_id = add_case(engine, language="ur", transcript=[
        {"direction": "in", "kind": "text", "text": "مجھے مدد چاہیے", "at": "2026-11-29T07:58:00+00:00"},
        {"direction": "out", "kind": "text", "text": "bot answer", "at": "2026-11-29T07:58:01+00:00"}])
    add_message(engine, case_id, "", kind="media", meta={"media": "photo"})
    add_message(engine, case_id, "second message")
    client = console.as_staff("agent1", "agent")
    page = client.get(f"/cases/{case_id}").text
    order = [page.index(s) for s in ("مجھے مدد چاہیے", "bot answer", "Case opened", "photo", "second message")]
    assert order == sorted(order)
    assert re.search(r'<div class="body" dir="auto" lang="ur">مجھے مدد چاہیے</div>', page)


def test_claim_then_a_second_agent_needs_an_explicit_take_over(console: Harness):
    engine = console.engine
    case_id = add_case(engine, priority="urgent")
    first = console.as_staff("first", "agent")
    second = console.as_staff("second", "agent")
    first_id, second_id = (s.id for s in rows(engine, store.staff_t))

    assert post(console, first, f"/cases/{case_id}/claim").headers["location"] == f"/cases/{case_id}?done=claimed"
    lost = post(console, second, f"/cases/{case_id}/claim")
    assert lost.status_code == 409 and "Someone else claimed this case first" in lost.text

    refused = post(console, second, f"/cases/{case_id}/reply", text="I am here to help")
    assert refused.status_code == 409 and "held by first" in refused.text
    assert "I am here to help" in refused.text  # the draft is kept
    assert post(console, second, f"/cases/{case_id}/status", status="resolved").status_code == 409
    assert rows(engine, store.messages) == [] and rows(engine, store.outbox) == []
    assert get_case(engine, case_id)["assigned_to"] == first_id

    stale = post(console, second, f"/cases/{case_id}/takeover", expected="")  # saw it unassigned: refused
    assert stale.status_code == 409
    taken = post(console, second, f"/cases/{case_id}/takeover", expected=str(first_id))
    assert taken.status_code == 303
    assert get_case(engine, case_id)["assigned_to"] == second_id
    takeover = [a for a in rows(engine, store.audit_t) if a.action == "takeover"]
    assert len(takeover) == 1 and takeover[0].staff_id == second_id and takeover[0].case_id == case_id
    assert takeover[0].detail == {"previous_id": first_id, "previous": "first"}

    assert post(console, second, f"/cases/{case_id}/reply", text="I am here to help").status_code == 303
    assert post(console, first, f"/cases/{case_id}/reply", text="me too").status_code == 409
    assert [m.text for m in rows(engine, store.messages)] == ["I am here to help"]


def test_reply_writes_one_message_one_outbox_row_and_an_audit_row(console: Harness):
    engine = console.engine
    # the header names the SafeSafar team, never "the hotline" (content/glossary.yml)
    headers = {"en": "<b>SafeSafar team</b>\n", "ur": "<b>سیف سفر ٹیم</b>\n", "ur-Latn": "<b>SafeSafar team</b>\n"}
    client = console.as_staff("agent1", "agent")
    agent_id = rows(engine, store.staff_t)[0].id
    for language, header in headers.items():
        case_id = add_case(engine, language=language, priority="high")
        user_id = get_case(engine, case_id)["user_id"]
        chat_id = rows(engine, store.users, store.users.c.id == user_id)[0].chat_id
        post(console, client, f"/cases/{case_id}/claim")
        version = get_case(engine, case_id)["version"]
        console.clock.advance(minutes=3)
        response = post(console, client, f"/cases/{case_id}/reply", text="Are you safe? <b>Tell</b> us & wait")
        assert response.status_code == 303 and response.headers["location"].endswith("done=replied")

        (message,) = rows(engine, store.messages, store.messages.c.case_id == case_id)
        assert (message.direction, message.kind, message.user_id, message.text) == (
            "staff", "text", user_id, "Are you safe? <b>Tell</b> us & wait")
        assert message.meta == {"staff_id": agent_id, "username": "agent1"}
        (out,) = rows(engine, store.outbox, store.outbox.c.case_id == case_id)
        assert (out.kind, out.dedupe_key, out.chat_id, out.status) == (
            "staff_reply", f"staff_reply:{message.id}", chat_id, "pending")
        assert out.payload == {"text": header + "Are you safe? &lt;b&gt;Tell&lt;/b&gt; us &amp; wait", "buttons": []}
        case = get_case(engine, case_id)
        assert case["status"] == "waiting" and case["version"] == version + 1
        assert store.as_utc(case["first_response_at"]) == console.clock.now
        assert audit_actions(engine, case_id) == ["claim", "reply"]

    first_response = get_case(engine, case_id)["first_response_at"]
    console.clock.advance(minutes=1)
    post(console, client, f"/cases/{case_id}/reply", text="second reply")
    assert get_case(engine, case_id)["first_response_at"] == first_response  # set once
    assert len(rows(engine, store.outbox, store.outbox.c.case_id == case_id)) == 2


def test_reply_refused_without_effect(console: Harness):
    engine = console.engine
    client = console.as_staff("agent1", "agent")
    gone = add_case(engine, chat_id=None)  # the person deleted their data
    post(console, client, f"/cases/{gone}/claim")
    response = post(console, client, f"/cases/{gone}/reply", text="hello")
    assert response.status_code == 409 and "can no longer be reached" in response.text
    empty = post(console, client, f"/cases/{gone}/reply", text="   ")
    assert empty.status_code == 409
    unclaimed = add_case(engine)
    assert post(console, client, f"/cases/{unclaimed}/reply", text="hello").status_code == 409
    assert rows(engine, store.messages) == [] and rows(engine, store.outbox) == []
    assert get_case(engine, gone)["status"] == "claimed" and get_case(engine, gone)["first_response_at"] is None
    assert post(console, client, "/cases/99999/reply", text="hello").status_code == 404


def test_notes_status_and_reopen(console: Harness):
    engine, now = console.engine, console.clock.now
    client = console.as_staff("agent1", "agent")
    case_id = add_case(engine)
    assert post(console, client, f"/cases/{case_id}/notes", text="called the embassy desk").status_code == 303
    assert "called the embassy desk" in client.get(f"/cases/{case_id}").text
    assert rows(engine, store.outbox) == [] and rows(engine, store.messages) == []  # notes are never sent

    post(console, client, f"/cases/{case_id}/claim")
    assert post(console, client, f"/cases/{case_id}/status", status="waiting").status_code == 303
    assert get_case(engine, case_id)["status"] == "waiting"
    assert post(console, client, f"/cases/{case_id}/status", status="nonsense").status_code == 409
    console.clock.advance(minutes=10)
    assert post(console, client, f"/cases/{case_id}/status", status="resolved").status_code == 303
    case = get_case(engine, case_id)
    assert case["status"] == "resolved" and store.as_utc(case["resolved_at"]) == now + timedelta(minutes=10)

    # the person wrote again and the bot opened a new case: reopening the old one must say so, not crash
    newer = add_case(engine, user_id=case["user_id"])
    response = post(console, client, f"/cases/{case_id}/reopen")
    assert response.status_code == 409 and f"another open case (#{newer})" in response.text
    assert get_case(engine, case_id)["status"] == "resolved"

    with engine.begin() as conn:
        conn.execute(update(store.cases).where(store.cases.c.id == newer).values(status="resolved"))
    assert post(console, client, f"/cases/{case_id}/reopen").status_code == 303
    case = get_case(engine, case_id)
    assert (case["status"], case["assigned_to"], case["resolved_at"]) == ("reopened", None, None)
    assert case_id in client.get("/api/queue?view=unassigned").json()["ids"]
    statuses = [(a.action, a.detail.get("status")) for a in rows(engine, store.audit_t) if a.case_id == case_id]
    assert statuses == [("note", None), ("claim", None), ("status", "waiting"), ("status", "resolved"),
                        ("status", "reopened")]


def test_reopen_race_with_the_unique_index_is_a_clear_error(console: Harness):
    """The partial unique index (one open case per user) is the last line: a conflicting reopen is a 409."""
    engine = console.engine
    user_id = add_user(engine)
    old = add_case(engine, user_id=user_id, status="resolved", resolved_at=console.clock.now)
    add_case(engine, user_id=user_id)
    agent = store.Staff(add_staff(engine, "agent1", "agent"), "agent1", "", "agent", "en", True)
    import pytest

    original = store.other_open_case
    store.other_open_case = lambda *a: None  # as if the bot's new case committed after the check
    try:
        with pytest.raises(store.CaseError) as error, engine.begin() as conn:
            store.reopen(conn, old, agent, console.clock.now)
    finally:
        store.other_open_case = original
    assert error.value.code == "other_open"
    assert get_case(engine, old)["status"] == "resolved"


def test_supervisor_assigns_and_agents_cannot(console: Harness):
    engine = console.engine
    case_id = add_case(engine, priority="urgent")
    agent_id = add_staff(engine, "agent1", "agent")
    disabled = add_staff(engine, "gone", "agent", active=False)
    editor = add_staff(engine, "writer", "editor")
    boss = console.as_staff("boss", "supervisor")
    page = boss.get(f"/cases/{case_id}").text
    assert 'action="/cases/%d/assign"' % case_id in page and "gone" not in page and "writer" not in page
    assert post(console, boss, f"/cases/{case_id}/assign", staff_id=str(agent_id)).status_code == 303
    case = get_case(engine, case_id)
    assert (case["assigned_to"], case["status"]) == (agent_id, "claimed")
    for bad in (disabled, editor, 99999):
        assert post(console, boss, f"/cases/{case_id}/assign", staff_id=str(bad)).status_code == 409
    (entry,) = [a for a in rows(engine, store.audit_t) if a.action == "assign"]
    assert entry.detail["to"] == "agent1" and entry.detail["previous_id"] is None

    agent, _ = console.login("agent1")
    assert 'action="/cases/%d/assign"' % case_id not in agent.get(f"/cases/{case_id}").text


def test_canned_replies_seeded_shown_and_edited_by_supervisors(console: Harness):
    engine = console.engine
    seeded = rows(engine, store.canned)
    assert {c.language for c in seeded} == {"en", "ur", "ur-Latn"}
    assert not any(re.search(r"\d{4,}|\+\d", c.text) for c in seeded)  # no phone numbers in the seeds
    case_id = add_case(engine, language="ur")
    agent = console.as_staff("agent1", "agent")
    post(console, agent, f"/cases/{case_id}/claim")
    page = agent.get(f"/cases/{case_id}").text
    urdu = next(c for c in seeded if c.language == "ur")
    assert f'data-insert="{urdu.text}"' in page
    assert page.index(urdu.title) < page.index(next(c for c in seeded if c.language == "en").title)  # the case's language first
    assert agent.get("/canned").status_code == 403

    boss = console.as_staff("boss", "supervisor")
    assert post(console, boss, "/canned", language="ur-Latn", title="Shukriya", text="Aap ka shukriya.").status_code == 303
    created = rows(engine, store.canned, store.canned.c.title == "Shukriya")[0]
    assert post(console, boss, f"/canned/{created.id}", language="ur-Latn", title="Shukriya",
                text="Aap ka bohat shukriya.").status_code == 303
    assert rows(engine, store.canned, store.canned.c.id == created.id)[0].text == "Aap ka bohat shukriya."
    assert post(console, boss, "/canned", language="xx", title="t", text="t").status_code == 409
    assert post(console, boss, f"/canned/{created.id}/delete").status_code == 303
    assert rows(engine, store.canned, store.canned.c.id == created.id) == []
    assert [a for a in audit_actions(engine) if a.startswith("canned_")] == [
        "canned_seed", "canned_create", "canned_update", "canned_delete"]


def test_audit_log_shows_staff_actions_to_supervisors_only(console: Harness):
    engine = console.engine
    case_id = add_case(engine)
    agent = console.as_staff("agent1", "agent")
    post(console, agent, f"/cases/{case_id}/claim")
    post(console, agent, f"/cases/{case_id}/reply", text="hello")
    assert agent.get("/audit").status_code == 403
    boss = console.as_staff("boss", "supervisor")
    page = boss.get("/audit").text
    for action in ("login", "claim", "reply", "canned_seed"):
        assert f'data-action="{action}"' in page
    filtered = boss.get(f"/audit?case={case_id}").text
    assert set(re.findall(r'data-action="(\w+)"', filtered)) == {"claim", "reply"}
    assert "hello" not in filtered  # the audit log keeps no message text


def test_admin_manages_staff(console: Harness):
    engine = console.engine
    admin = console.as_staff("root", "admin")
    response = post(console, admin, "/staff", username="Nadia", display_name="Nadia K", role="agent",
                    language="ur", password=PASSWORD)
    assert response.status_code == 303
    nadia = rows(engine, store.staff_t, store.staff_t.c.username == "nadia")[0]
    assert (nadia.role, nadia.language, nadia.active) == ("agent", "ur", True)
    assert post(console, admin, "/staff", username="short", role="agent", language="en",
                password="too short").status_code == 409
    assert post(console, admin, "/staff", username="nadia", role="agent", language="en",
                password=PASSWORD).status_code == 409
    client, response = console.login("nadia")
    assert response.status_code == 303
    assert post(console, admin, f"/staff/{nadia.id}/active", active="0").status_code == 303
    assert client.get("/queue").status_code == 303  # disabled: the session ends
    assert console.login("nadia")[1].status_code == 401
    own = rows(engine, store.staff_t, store.staff_t.c.username == "root")[0]
    assert post(console, admin, f"/staff/{own.id}/active", active="0").status_code == 409
    assert [a for a in audit_actions(engine) if a.startswith("staff_")] == ["staff_create", "staff_disable"]


def test_urdu_interface_is_right_to_left(console: Harness):
    engine = console.engine
    case_id = add_case(engine, language="ur", priority="urgent", transcript=[
        {"direction": "in", "kind": "text", "text": "میرا پاسپورٹ رکھ لیا گیا ہے", "at": "2026-11-29T07:59:00+00:00"},
        {"direction": "in", "kind": "text", "text": "ایجنٹ کا نمبر 0300 1234567 ہے", "at": "2026-11-29T07:59:30+00:00"}])
    add_staff(engine, "urdu", "agent", language="ur")
    client, _ = console.login("urdu")
    queue = client.get("/queue").text
    assert '<html lang="ur" dir="rtl">' in queue
    assert "قطار" in queue and "فوری" in queue  # "Queue", "Urgent"
    case = client.get(f"/cases/{case_id}").text
    # numbers in Urdu text are bidi-isolated (LRI ... PDI) where they are shown, in the interface and in messages
    assert '<html lang="ur" dir="rtl">' in case and f"کیس نمبر \u2066{case_id}\u2069" in case
    assert '<div class="body" dir="auto" lang="ur">میرا پاسپورٹ رکھ لیا گیا ہے</div>' in case
    assert '<div class="body" dir="auto" lang="ur">ایجنٹ کا نمبر \u20660300 1234567\u2069 ہے</div>' in case
    stored = [m["text"] for m in get_case(engine, case_id)["transcript"] if "0300" in m["text"]]
    assert stored == ["ایجنٹ کا نمبر 0300 1234567 ہے"]  # stored text stays clean

    login_page = console.client().get("/login?lang=ur").text
    assert '<html lang="ur" dir="rtl">' in login_page and "لاگ اِن کریں" in login_page
    post(console, client, "/language", language="en", next="/queue")
    assert '<html lang="en" dir="ltr">' in client.get("/queue").text


def test_case_page_polling_sees_new_messages(console: Harness):
    engine = console.engine
    case_id = add_case(engine)
    client = console.as_staff("agent1", "agent")
    before = client.get(f"/api/cases/{case_id}").json()
    message_id = add_message(engine, case_id, "the user answered")
    after = client.get(f"/api/cases/{case_id}").json()
    assert after["last_message"] == message_id != before["last_message"]
    assert "the user answered" in after["html"] and "the user answered" not in before["html"]
