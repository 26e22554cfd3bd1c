"""The console for a long shift (issue 22): the pulse every page polls, settings, what waits for whom in the
queue (markers, timers, order), delivery states of replies, contact warnings, resolving with an outcome.
SQLite and PostgreSQL (db_url)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from bot.web import store
from tests.web_support import Harness, add_case, add_message, add_staff, get_case, rows, staff_obj


def post(console: Harness, client, path: str, **data):
    return client.post(path, data={"csrf": console.token(client), **data})


def queue_ids(client, view: str) -> list[int]:
    return client.get(f"/api/queue?view={view}").json()["ids"]


def test_the_pulse_counts_unassigned_cases_and_lists_the_new_and_urgent_ones(console: Harness):
    client = console.as_staff("amina", "agent")
    assert client.get("/api/pulse").json() == {"unassigned": 0, "ids": [], "urgent": [], "overdue": 0, "waiting": []}
    normal = add_case(console.engine, priority="normal", created_at=console.clock.now)
    urgent = add_case(console.engine, priority="urgent", created_at=console.clock.now)
    add_case(console.engine, status="resolved", resolved_at=console.clock.now)
    console.clock.advance(minutes=6)  # the urgent target is 5 minutes
    data = client.get("/api/pulse").json()
    assert (data["unassigned"], data["ids"], data["urgent"], data["overdue"]) == (2, [normal, urgent], [urgent], 1)
    # every page of a case worker polls it; an editor's pages do not
    assert 'data-pulse="/api/pulse"' in client.get(f"/cases/{normal}").text
    editor = console.as_staff("eddie", "editor")
    assert "data-pulse" not in editor.get("/content").text
    assert editor.get("/api/pulse").status_code == 403


def test_settings_are_stored_per_person_and_reach_every_page(console: Harness):
    client = console.as_staff("amina", "agent")
    other = console.as_staff("bilal", "agent")
    page = client.get("/queue").text
    assert 'data-notify="0"' in page and 'data-sound="0"' in page and 'class="urdu-nastaliq"' in page
    assert post(console, client, "/settings", notify="1", sound="1", urdu_font="naskh").status_code == 303
    page = client.get("/queue").text
    assert 'data-notify="1"' in page and 'data-sound="1"' in page and 'class="urdu-naskh"' in page
    assert 'data-notify="0"' in other.get("/queue").text  # per person
    assert post(console, client, "/settings", urdu_font="bogus").status_code == 303
    me = [s for s in rows(console.engine, store.staff_t) if s.username == "amina"][0]
    assert me.prefs == {"notify": False, "sound": False, "urdu_font": "nastaliq"}
    assert [a.action for a in rows(console.engine, store.audit_t)].count("settings") == 2


def test_a_user_answer_marks_the_case_in_mine_and_starts_a_response_timer(console: Harness):
    engine, now = console.engine, console.clock.now
    client = console.as_staff("amina", "agent")
    me = staff_obj(engine, 1)
    answered = add_case(engine, priority="normal", status="claimed", assigned_to=me.id, created_at=now)
    quiet = add_case(engine, priority="normal", status="claimed", assigned_to=me.id, created_at=now)
    for case_id in (answered, quiet):
        with engine.begin() as conn:
            store.reply(conn, case_id, me, "Are you safe?", now + timedelta(minutes=1))
    page = client.get("/queue?view=mine").text
    assert "New message from the user" not in page
    add_message(engine, answered, "yes, I am safe now", at=now + timedelta(minutes=3))
    console.clock.advance(minutes=4)
    html = client.get("/api/queue?view=mine").json()["html"]
    assert html.count('data-marker="new-message"') == 1
    assert f'data-waiting-since="{answered}"' in html and f'data-waiting-since="{quiet}"' not in html
    assert queue_ids(client, "mine") == [answered, quiet]  # the waiting user first
    assert client.get("/api/pulse").json()["waiting"] == [answered]
    # the timer runs for this message too: the normal target is long past after a day
    console.clock.advance(days=1)
    client, _ = console.login("amina")
    html = client.get("/api/queue?view=mine").json()["html"]
    assert "reply overdue" in html
    # the hotline answers: the marker goes
    with engine.begin() as conn:
        store.reply(conn, answered, me, "Good.", console.clock.now)
    assert 'data-marker="new-message"' not in client.get("/api/queue?view=mine").json()["html"]


def test_a_reopened_case_gets_a_timer_for_the_new_message(console: Harness):
    engine, now = console.engine, console.clock.now
    client = console.as_staff("amina", "agent")
    case_id = add_case(engine, priority="high", status="claimed", assigned_to=1, created_at=now)
    me = staff_obj(engine, 1)
    with engine.begin() as conn:
        store.reply(conn, case_id, me, "Hello", now)
        store.set_status(conn, case_id, me, "resolved", now)
        store.reopen(conn, case_id, me, now + timedelta(days=2))
    add_message(engine, case_id, "me again", at=now + timedelta(days=2, minutes=1))
    console.clock.advance(days=2, minutes=40)  # high: 30 minutes
    client, _ = console.login("amina")
    page = client.get(f"/cases/{case_id}").text
    assert "User waiting since" in page and "reply overdue" in page


def test_in_all_open_an_overdue_unanswered_urgent_case_sorts_above_one_waiting_for_the_user(console: Harness):
    engine, now = console.engine, console.clock.now
    client = console.as_staff("amina", "agent")
    waiting = add_case(engine, priority="urgent", status="claimed", assigned_to=1, created_at=now)
    me = staff_obj(engine, 1)
    with engine.begin() as conn:
        store.reply(conn, waiting, me, "Where are you?", now + timedelta(minutes=1))
    later = add_case(engine, priority="urgent", created_at=now + timedelta(minutes=2))
    normal = add_case(engine, priority="normal", created_at=now - timedelta(hours=1))
    console.clock.advance(minutes=10)
    assert get_case(engine, waiting)["status"] == "waiting"
    assert queue_ids(client, "all") == [later, waiting, normal]


def test_contact_warnings_show_in_the_queue_and_by_the_reply_box(console: Harness):
    engine = console.engine
    client = console.as_staff("amina", "agent")
    no = add_case(engine, reason="report", report={"what": "x", "contact": False}, assigned_to=1, status="claimed")
    gone = add_case(engine, chat_id=None, assigned_to=1, status="claimed")
    ok = add_case(engine, report={"contact": True}, assigned_to=1, status="claimed")
    html = client.get("/api/queue?view=mine").json()["html"]
    rows_html = {case_id: html.split(f'data-case="{case_id}"')[1].split("</tr>")[0] for case_id in (no, gone, ok)}
    assert 'data-marker="no-contact"' in rows_html[no] and 'data-marker="unreachable"' not in rows_html[no]
    assert 'data-marker="unreachable"' in rows_html[gone]
    assert "data-marker" not in rows_html[ok].replace('data-marker="new-message"', "")
    page = client.get(f"/cases/{no}").text
    assert "May we contact them: no" in page.split('id="reply-form"')[1]


def test_each_hotline_reply_shows_pending_sent_or_failed(console: Harness):
    engine = console.engine
    client = console.as_staff("amina", "agent")
    case_id = add_case(engine, status="claimed", assigned_to=1)
    assert post(console, client, f"/cases/{case_id}/reply", text="first").status_code == 303
    assert post(console, client, f"/cases/{case_id}/reply", text="second").status_code == 303
    html = client.get(f"/api/cases/{case_id}").json()["html"]
    assert html.count('data-delivery="pending"') == 2
    first, second = rows(engine, store.outbox, store.outbox.c.case_id == case_id)
    with engine.begin() as conn:
        conn.execute(update(store.outbox).where(store.outbox.c.id == first.id).values(status="sent"))
        conn.execute(update(store.outbox).where(store.outbox.c.id == second.id).values(status="dead"))
    html = client.get(f"/api/cases/{case_id}").json()["html"]
    assert 'data-delivery="sent"' in html and 'data-delivery="failed"' in html and "pending" not in html


def test_resolving_needs_an_outcome_which_is_stored(console: Harness):
    engine = console.engine
    client = console.as_staff("amina", "agent")
    case_id = add_case(engine, status="claimed", assigned_to=1)
    add_message(engine, case_id, "one more thing")
    add_message(engine, case_id, "the bot's own answer", direction="out")  # does not answer the user
    page = client.get(f"/cases/{case_id}").text
    assert "The last message is from the user and has no answer." in page.split('id="resolve-form"')[1]
    assert post(console, client, f"/cases/{case_id}/resolve").status_code == 409
    assert post(console, client, f"/cases/{case_id}/resolve", outcome="made_up").status_code == 409
    assert get_case(engine, case_id)["status"] == "claimed"
    response = post(console, client, f"/cases/{case_id}/resolve", outcome="referred_fia")
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case_id}?done=resolved"
    case = get_case(engine, case_id)
    assert (case["status"], case["outcome"]) == ("resolved", "referred_fia")
    assert "Referred to the FIA" in client.get(f"/cases/{case_id}").text
    (row,) = [a for a in rows(engine, store.audit_t) if a.action == "status"]
    assert row.detail["outcome"] == "referred_fia"
    # someone else's case cannot be resolved
    other = add_case(engine, status="claimed", assigned_to=add_staff(engine, "bilal", "agent"))
    assert post(console, client, f"/cases/{other}/resolve", outcome="information").status_code == 409


def test_urdu_text_is_marked_for_its_line_height(console: Harness):
    client = console.as_staff("amina", "agent")
    case_id = add_case(console.engine, language="ur", summary="مدد چاہیے", assigned_to=1, status="claimed",
                       transcript=[{"direction": "in", "kind": "text", "text": "کچھ مدد چاہیے"}])
    page = client.get(f"/cases/{case_id}").text
    assert '<div class="body" dir="auto" lang="ur">کچھ مدد چاہیے</div>' in page
    assert 'id="reply-text" rows="4" dir="auto" required lang="ur"' in page


def test_every_console_string_has_an_urdu_translation():
    from babel.messages.pofile import read_po

    from bot.config import ROOT

    with open(ROOT / "locales" / "console.pot", encoding="utf-8") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with open(ROOT / "locales" / "ur" / "LC_MESSAGES" / "console.po", encoding="utf-8") as f:
        urdu = {m.id: m.string for m in read_po(f) if m.id}
    assert "Settings" in wanted and "New URGENT case" in wanted
    assert sorted(str(i) for i in wanted if not urdu.get(i)) == []


def test_times_are_shown_in_pakistan_time(console: Harness):
    client = console.as_staff("amina", "agent")
    case_id = add_case(console.engine, created_at=console.clock.now)  # 08:00 UTC
    page = client.get(f"/cases/{case_id}").text
    assert '<time dir="ltr" datetime="2026-11-29T08:00:00+00:00">2026-11-29 13:00 PKT</time>' in page


def test_button_presses_and_offer_check_answers_are_shown_in_words(console: Harness):
    from bot.dialogue.content import Content
    from bot.dialogue.offer_check import OfferCheck

    engine = console.engine
    client = console.as_staff("amina", "agent")
    check = OfferCheck(Content(console.app.state.console.settings.content_dir).offer_check)
    asked = check.by_id["upfront_money"].ask
    asked_ur = asked.get("ur") if isinstance(asked.get("ur"), str) else asked["job"]["ur"]
    case_id = add_case(engine, language="ur", reason="offer_check", assigned_to=1, status="claimed",
                       offer_check={"kind": "job", "level": "high", "total": 5, "answers": {"upfront_money": "yes"},
                                    "breakdown": ["upfront_money: yes -> +3 (critical)", "=> high (a critical red flag)"]},
                       transcript=[{"direction": "in", "kind": "button", "text": "oc:kind:job"},
                                   {"direction": "in", "kind": "button", "text": "oc:yes:upfront_money"}])
    add_message(engine, case_id, "rf:send", kind="button")
    page = client.get(f"/cases/{case_id}").text
    transcript = page.split('id="transcript"')[1].split("</ol>")[0]
    assert 'data-payload="oc:kind:job"' in transcript and ">نوکری</span>" in transcript and "(Job)" in transcript
    assert asked_ur in transcript and "Has the agent or consultant asked for money" in transcript
    assert "سیف سفر ٹیم کو بھیجیں" in transcript and "(Send to the SafeSafar team)" in transcript
    assert ">oc:" not in transcript and ">rf:" not in transcript  # no raw payload is shown as text
    summary = page.split('id="risk-summary"')[1].split("</p>")[0]
    assert "High risk" in summary and "red-flag score 5" in summary
    answers = page.split('class="plain offer-answers"')[1].split("</ul>")[0]
    assert 'data-question="upfront_money"' in answers and asked_ur in answers and "red flag" in answers
    # an unknown payload stays as it is (content may have changed since)
    add_message(engine, case_id, "zz:unknown", kind="button")
    assert "zz:unknown" in client.get(f"/api/cases/{case_id}").json()["html"]


def test_deleting_a_canned_reply_confirms_and_says_deleted(console: Harness):
    boss = console.as_staff("sara", "supervisor")
    page = boss.get("/canned").text
    assert 'formaction="/canned/1/delete" formnovalidate class="warn" data-confirm="Delete this canned reply' in page
    response = post(console, boss, "/canned/1/delete")
    assert response.headers["location"] == "/canned?done=deleted"
    assert "Deleted." in boss.get("/canned?done=deleted").text and "Saved." not in boss.get("/canned?done=deleted").text


def test_an_unknown_url_gets_the_styled_404_page(console: Harness):
    anonymous = console.client()
    response = anonymous.get("/no/such/page")
    assert response.status_code == 404 and '<link rel="stylesheet" href="/static/console.css">' in response.text
    assert "There is no such page or case." in response.text
    urdu = console.as_staff("urdu", "agent", language="ur")
    response = urdu.get("/nothing-here")
    assert response.status_code == 404 and '<html lang="ur" dir="rtl">' in response.text
    assert 'data-pulse="/api/pulse"' in response.text  # the header of a logged-in person, with the pulse
    assert urdu.get("/api/nothing").json()["error"]
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_search_by_case_number_and_text_and_the_persons_history(console: Harness):
    from tests.web_support import add_user

    engine = console.engine
    client = console.as_staff("amina", "agent")
    user = add_user(engine)
    old = add_case(engine, user_id=user, status="resolved", resolved_at=console.clock.now,
                   report={"who": "Falcon Manpower Services", "contact": True})
    new = add_case(engine, user_id=user, summary="visa · job")
    other = add_case(engine, summary="study · en")
    add_message(engine, other, "the consultant in Gujrat took 50%_ of the fee")
    assert client.get(f"/search?q=%23{new}").headers["location"] == f"/cases/{new}"
    assert client.get(f"/search?q={old}").headers["location"] == f"/cases/{old}"

    def found(q: str) -> list[int]:
        page = client.get("/search", params={"q": q})
        assert page.status_code == 200
        return [int(i) for i in re.findall(r'data-case="(\d+)"', page.text)]
    assert found("falcon manpower") == [old]
    assert found("gujrat") == [other]
    assert found("%_") == [other]  # LIKE wildcards are searched for literally
    assert found("nothing like this") == []
    history = client.get(f"/cases/{new}").text.split('id="person-history"')[1].split("</ul>")[0]
    assert f'href="/cases/{old}"' in history and f'href="/cases/{other}"' not in history


def test_the_audit_log_speaks_words(console: Harness):
    client = console.as_staff("amina", "agent")
    case_id = add_case(console.engine)
    post(console, client, f"/cases/{case_id}/claim")
    post(console, client, f"/cases/{case_id}/resolve", outcome="referred_1122")
    boss = console.as_staff("sara", "supervisor")
    row = boss.get(f"/audit?case={case_id}").text.split('data-action="status"')[1].split("</tr>")[0]
    assert "Changed the status" in row and "outcome: <bdi>Referred to 1122 (emergency)</bdi>" in row
    assert "now: <bdi>Resolved</bdi>" in row and "before: <bdi>Claimed</bdi>" in row
    assert '"outcome": "referred_1122"' not in row.split('title="', 2)[-1].split('">', 1)[1]  # no JSON as the text
    urdu = console.as_staff("urdu", "supervisor", language="ur")
    assert "کیس اپنے ذمے لیا" in urdu.get(f"/audit?case={case_id}").text


def test_queue_filters_by_language_priority_and_overdue(console: Harness):
    engine, now = console.engine, console.clock.now
    client = console.as_staff("amina", "agent")
    urdu_urgent = add_case(engine, priority="urgent", language="ur", created_at=now)
    english_urgent = add_case(engine, priority="urgent", language="en", created_at=now + timedelta(minutes=4))
    urdu_normal = add_case(engine, priority="normal", language="ur", created_at=now)
    console.clock.advance(minutes=6)  # only the first urgent case is past its 5 minutes
    assert queue_ids(client, "all") == [urdu_urgent, english_urgent, urdu_normal]
    assert client.get("/api/queue?view=all&language=ur").json()["ids"] == [urdu_urgent, urdu_normal]
    assert client.get("/api/queue?view=all&priority=urgent&language=en").json()["ids"] == [english_urgent]
    assert client.get("/api/queue?view=all&overdue=1").json()["ids"] == [urdu_urgent]
    assert client.get("/api/queue?view=all&language=xx&priority=zz").json()["ids"] == queue_ids(client, "all")
    page = client.get("/queue?view=all&language=ur").text
    assert 'data-poll="/api/queue?view=all&amp;language=ur&amp;priority=&amp;reason=&amp;tag="' in page  # polling keeps the filter
    assert 'href="/queue?view=all&amp;overdue=1" class="overdue-total overdue"' in page


def test_a_case_waiting_long_for_the_user_asks_for_a_follow_up(console: Harness):
    engine, now = console.engine, console.clock.now
    me = staff_obj(engine, add_staff(engine, "amina", "agent"))
    case_id = add_case(engine, status="claimed", assigned_to=me.id, created_at=now)
    with engine.begin() as conn:
        store.reply(conn, case_id, me, "Can you send the offer letter?", now)
    console.clock.advance(hours=3)
    client, _ = console.login("amina")
    html = client.get("/api/queue?view=mine").json()["html"]
    assert "Waiting for the user for 3 h 0 min" in html and 'data-marker="follow-up"' not in html
    console.clock.advance(hours=22)
    client, _ = console.login("amina")
    assert 'data-marker="follow-up"' in client.get("/api/queue?view=mine").json()["html"]
    add_message(engine, case_id, "here it is", at=console.clock.now)  # the user answers: no longer waiting for them
    with engine.begin() as conn:
        conn.execute(update(store.cases).where(store.cases.c.id == case_id).values(status="claimed"))
    html = client.get("/api/queue?view=mine").json()["html"]
    assert "Waiting for the user for" not in html and 'data-marker="new-message"' in html
