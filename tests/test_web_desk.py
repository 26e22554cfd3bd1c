"""The rest of the console for a long shift (issue 22): tags and saved views, search by a recruiter check's
agent or agency and in Urdu, the suggested closing message, the shift-handover note, each person's time zone,
the bot's summary in the interface's language, and media fetched through the bot (the local Bot API server,
tests/botapi_server.py). SQLite and PostgreSQL (db_url)."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Text, select

from bot.config import Settings
from bot.web import desk_store, store
from tests.botapi_server import BotAPIServer
from tests.web_support import Harness, add_case, add_message, rows


def post(console: Harness, client, path: str, **data):
    return client.post(path, data={"csrf": console.token(client), **data})


def ids(client, query: str) -> list[int]:
    return client.get(f"/api/queue?{query}").json()["ids"]


# -- tags ------------------------------------------------------------------------------------------------------

def test_supervisors_keep_the_tag_list_and_staff_tag_cases_and_filter_by_them(console: Harness):
    engine = console.engine
    boss = console.as_staff("sara", "supervisor")
    agent = console.as_staff("amina", "agent")
    assert post(console, boss, "/tags", kind="destination", name="Libya").status_code == 303
    assert post(console, boss, "/tags", kind="agent", name="  Al  Falah   Overseas ").status_code == 303
    again = post(console, boss, "/tags", kind="destination", name="libya")
    assert again.status_code == 409 and "already on the list" in again.text
    assert post(console, boss, "/tags", kind="bogus", name="x").status_code == 409
    tags = {t.name: t.id for t in rows(engine, desk_store.tags_t)}
    assert set(tags) == {"Libya", "Al Falah Overseas"}
    libya, agency = tags["Libya"], tags["Al Falah Overseas"]

    first, second = add_case(engine), add_case(engine)
    assert post(console, agent, f"/cases/{first}/tags", tag_id=str(libya), action="add").status_code == 303
    assert post(console, agent, f"/cases/{first}/tags", tag_id=str(libya), action="add").status_code == 303  # twice: once
    assert post(console, agent, f"/cases/{second}/tags", tag_id=str(agency), action="add").status_code == 303
    assert post(console, agent, f"/cases/{second}/tags", tag_id="999", action="add").status_code == 409
    assert case_tag_count(engine) == 2
    page = agent.get(f"/cases/{first}").text
    assert 'id="case-tags"' in page and f'<li data-tag="{libya}">' in page
    html = agent.get("/api/queue?view=all").json()["html"]
    first_row = html.split(f'data-case="{first}"')[1].split("</tr>")[0]
    assert f'data-tag="{libya}"' in first_row and f'data-tag="{agency}"' not in first_row
    assert ids(agent, f"view=all&tag={libya}") == [first]
    assert ids(agent, f"view=all&tag={agency}") == [second]
    assert set(ids(agent, "view=all&tag=x")) == {first, second}  # a malformed tag filter is ignored
    assert post(console, agent, f"/cases/{first}/tags", tag_id=str(libya), action="remove").status_code == 303
    assert ids(agent, f"view=all&tag={libya}") == []
    # a supervisor removes a tag from the list: it leaves every case
    post(console, agent, f"/cases/{first}/tags", tag_id=str(agency), action="add")
    assert post(console, boss, f"/tags/{agency}/delete").status_code == 303
    assert case_tag_count(engine) == 0
    assert "Al Falah Overseas" not in boss.get("/tags").text
    actions = [a.action for a in rows(engine, store.audit_t)]
    assert actions.count("tag_add") == 3 and actions.count("tag_remove") == 1
    assert actions.count("tag_create") == 2 and actions.count("tag_delete") == 1
    assert "Tagged the case" in boss.get("/audit").text


def test_the_queue_filters_by_reason(console: Harness):
    agent = console.as_staff("amina", "agent")
    report = add_case(console.engine, reason="report")
    add_case(console.engine, reason="human")
    assert ids(agent, "view=all&reason=report") == [report]


def test_saved_views_belong_to_their_owner_and_reopen_the_filters(console: Harness):
    engine = console.engine
    amina = console.as_staff("amina", "agent")
    bilal = console.as_staff("bilal", "agent")
    response = post(console, amina, "/views", name="Urdu urgent", view="all", language="ur", priority="urgent",
                    reason="", tag="", overdue="1")
    assert response.status_code == 303
    assert response.headers["location"] == "/queue?view=all&language=ur&priority=urgent&overdue=1&saved=1"
    saved = rows(engine, desk_store.views_t)
    assert [(v.name, v.filters) for v in saved] == [("Urdu urgent", {"view": "all", "language": "ur", "priority": "urgent",
                                                                      "reason": "", "tag": "", "overdue": True})]
    # the same name replaces the view; junk values are dropped
    post(console, amina, "/views", name="Urdu urgent", view="mine", language="ur", priority="zz")
    saved = rows(engine, desk_store.views_t)
    assert len(saved) == 1 and saved[0].filters["view"] == "mine" and saved[0].filters["priority"] == ""
    page = amina.get("/queue").text
    assert f'data-view="{saved[0].id}"' in page and 'href="/queue?view=mine&amp;language=ur"' in page
    assert f'data-view="{saved[0].id}"' not in bilal.get("/queue").text  # per person
    assert post(console, bilal, f"/views/{saved[0].id}/delete").status_code == 404  # not theirs
    assert post(console, amina, "/views", name="   ").status_code == 303
    assert len(rows(engine, desk_store.views_t)) == 1
    assert post(console, amina, f"/views/{saved[0].id}/delete").status_code == 303
    assert rows(engine, desk_store.views_t) == []


# -- search ------------------------------------------------------------------------------------------------------

def test_search_finds_the_agent_or_agency_of_a_recruiter_check(console: Harness):
    engine = console.engine
    agent = console.as_staff("amina", "agent")
    checked = add_case(engine)
    add_message(engine, checked, "Al Noor", meta={"intent": "verify_agent", "agent_check": {
        "query": "al noor travel", "by": "name", "outcome": "found", "licence": "1234/RWP",
        "title": "AL-NOOR OVERSEAS EMPLOYMENT PROMOTERS", "status": "valid"}})
    urdu = add_case(engine, language="ur")
    add_message(engine, urdu, "نور", meta={"agent_check": {"query": "النور ٹریول", "by": "name",
                                                            "outcome": "not_found"}})
    other = add_case(engine)
    add_message(engine, other, "hello", meta={"intent": "agent_check_name"})  # the word, not a check
    assert ids_of(agent, "overseas employment") == [checked]
    assert ids_of(agent, "1234/RWP") == [checked]
    assert ids_of(agent, "النور") == [urdu]
    assert ids_of(agent, "agent_check") == []  # the JSON's keys are not names
    assert 'id="agent-checks"' in agent.get(f"/cases/{checked}").text


def ids_of(client, text: str) -> list[int]:
    page = client.get("/search", params={"q": text}).text
    return [int(n) for n in re.findall(r'data-case="(\d+)"', page)]


def test_urdu_in_report_forms_and_entities_is_stored_as_text_and_found(console: Harness):
    engine = console.engine
    agent = console.as_staff("amina", "agent")
    report = add_case(engine, language="ur", reason="report", report={"who": "ظفر ایجنسی", "where": "گلگت"})
    entity = add_case(engine, language="ur", entities={"country": ["لیبیا"]})
    add_case(engine, report={"who": "Someone else"})
    with engine.connect() as conn:
        raw = conn.execute(select(store.cases.c.report.cast(Text)).where(store.cases.c.id == report)).scalar()
    assert "ظفر" in raw and "\\u" not in raw  # UTF-8 text, not escapes
    assert ids_of(agent, "ظفر") == [report]
    assert ids_of(agent, "لیبیا") == [entity]


# -- closing ------------------------------------------------------------------------------------------------------

def test_resolving_suggests_a_closing_message_in_the_cases_language_and_sends_it_if_kept(console: Harness):
    engine = console.engine
    agent = console.as_staff("amina", "agent")
    urdu = add_case(engine, language="ur", status="claimed", assigned_to=1)
    page = agent.get(f"/cases/{urdu}").text
    box = re.search(r'<textarea name="closing"[^>]*data-suggestions="([^"]+)"', page)
    suggestions = json.loads(box.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))
    assert set(suggestions) == set(store.rules.OUTCOMES)
    assert "1122" in suggestions["referred_1122"] and "شکریہ" in suggestions["information"]
    roman = add_case(engine, language="ur-Latn", status="claimed", assigned_to=1)
    page = agent.get(f"/cases/{roman}").text
    assert "shukriya" in page.split('name="closing"')[1].split("</textarea>")[0]
    # kept (edited): sent before the case is resolved, in the same action
    text = suggestions["information"] + " خدا حافظ"
    assert post(console, agent, f"/cases/{urdu}/resolve", outcome="information", closing=text).status_code == 303
    sent = rows(engine, store.messages, store.messages.c.case_id == urdu, store.messages.c.direction == "staff")
    assert [m.text for m in sent] == [text]
    assert rows(engine, store.outbox, store.outbox.c.case_id == urdu)[0].kind == "staff_reply"
    with engine.connect() as conn:
        case = store.get_case(conn, urdu)
    assert (case["status"], case["outcome"]) == ("resolved", "information")
    # emptied: nothing is sent
    assert post(console, agent, f"/cases/{roman}/resolve", outcome="no_contact", closing=" ").status_code == 303
    assert rows(engine, store.messages, store.messages.c.case_id == roman, store.messages.c.direction == "staff") == []
    # no outcome: neither the message nor the resolve
    third = add_case(engine, status="claimed", assigned_to=1)
    assert post(console, agent, f"/cases/{third}/resolve", closing="bye").status_code == 409
    assert rows(engine, store.messages, store.messages.c.case_id == third, store.messages.c.direction == "staff") == []


# -- shift handover ---------------------------------------------------------------------------------------------

def test_a_handover_note_is_shown_to_the_next_person_until_acknowledged(console: Harness):
    engine = console.engine
    night = console.as_staff("night", "agent", display_name="Night Shift")
    morning = console.as_staff("morning", "agent")
    boss = console.as_staff("sara", "supervisor")
    note = "Case 12 waits for the FIA's answer. کیس 14 کو صبح فون کرنا ہے۔"
    assert post(console, night, "/handover", text=note).status_code == 303
    [row] = rows(engine, desk_store.handover_t)
    own = night.get("/queue").text
    assert f'data-handover="{row.id}"' not in own and f'data-my-handover="{row.id}"' in own
    page = morning.get("/queue").text
    assert f'data-handover="{row.id}"' in page and "Night Shift" in page and "کیس" in page
    assert f'data-handover="{row.id}"' in boss.get("/queue").text
    assert post(console, night, f"/handover/{row.id}/ack").headers["location"] == "/queue?handover_error=own_handover"
    assert post(console, morning, f"/handover/{row.id}/ack").status_code == 303
    assert f'data-handover="{row.id}"' not in morning.get("/queue").text
    assert f'data-handover="{row.id}"' not in boss.get("/queue").text
    [row] = rows(engine, desk_store.handover_t)
    assert row.acknowledged_by is not None and row.acknowledged_at is not None
    assert post(console, morning, "/handover", text="  ").headers["location"] == "/queue?handover_error=empty"
    assert "Write something first." in morning.get("/queue?handover_error=empty").text
    assert post(console, morning, "/handover/999/ack").status_code == 404
    actions = [a.action for a in rows(engine, store.audit_t)]
    assert actions.count("handover_write") == 1 and actions.count("handover_ack") == 1


# -- time zone ---------------------------------------------------------------------------------------------------

def test_times_show_in_the_persons_time_zone_else_the_consoles(console: Harness):
    agent = console.as_staff("amina", "agent")
    case_id = add_case(console.engine, created_at=console.clock.now)  # 08:00 UTC
    assert "2026-11-29 13:00 PKT" in agent.get(f"/cases/{case_id}").text  # CONSOLE_TIMEZONE's default
    post(console, agent, "/settings", timezone="Europe/Rome")
    assert "2026-11-29 09:00 CET" in agent.get(f"/cases/{case_id}").text
    assert 'value="Europe/Rome" selected' in agent.get("/settings").text
    other = console.as_staff("bilal", "agent")
    assert "13:00 PKT" in other.get(f"/cases/{case_id}").text  # per person
    post(console, agent, "/settings", timezone="Mars/Olympus")
    assert "13:00 PKT" in agent.get(f"/cases/{case_id}").text
    assert "timezone" not in rows(console.engine, store.staff_t, store.staff_t.c.username == "amina")[0].prefs


# -- the bot's summary line in words ---------------------------------------------------------------------------------

def test_the_bots_summary_shows_in_the_interfaces_language(console: Harness):
    agent = console.as_staff("amina", "agent", language="ur")
    case_id = add_case(console.engine, reason="offer_check", language="ur",
                       summary="High-risk offer check · ur · Libya · offer check: job high · fired: "
                               "danger danger phrase ×2 · p(emergency) 0.91",
                       entities={"country": ["Libya"]}, offer_check={"kind": "job", "level": "high"})
    page = agent.get(f"/cases/{case_id}").text
    cell = page.split('id="case-summary"')[1].split("</td>")[0]
    assert "High-risk" not in cell.split(">", 1)[1] and "Libya" in cell and "0.91" in cell
    assert "آفر" in cell or "پیشکش" in cell  # the offer check in Urdu
    assert 'title="High-risk offer check' in cell  # the stored line stays at hand
    english = console.as_staff("bilal", "agent")
    cell = english.get(f"/cases/{case_id}").text.split('id="case-summary"')[1].split("</td>")[0]
    assert "Risky offer check · Urdu · Libya · offer check (job): high risk" in cell
    assert "danger phrases: 2" in cell and "emergency probability 0.91" in cell


# -- media through the bot ------------------------------------------------------------------------------------------

TOKEN = "123456:TEST-token-never-shown"


@pytest.fixture
def with_bot(db_url):
    with BotAPIServer() as server:
        server.state.token = TOKEN
        settings = replace(Settings.from_env(), database_url=db_url, console_url="http://testserver",
                           telegram_token=TOKEN, telegram_api_base_url=server.base_url)
        harness = Harness(settings)
        try:
            yield harness, server
        finally:
            harness.close()


def test_staff_see_a_photo_and_download_a_document_through_the_bot(with_bot):
    console, server = with_bot
    engine = console.engine
    agent = console.as_staff("amina", "agent")
    jpeg = b"\xff\xd8\xff\xe0" + b"photo-bytes" * 100
    server.state.add_file("PHOTO1", "photos/file_7.jpg", jpeg)
    server.state.add_file("DOC1", "documents/file_8.html", b"<script>alert(1)</script>")
    case_id = add_case(engine, status="claimed", assigned_to=1)
    photo = add_message(engine, case_id, "my contract", kind="media", meta={"media": "photo", "file_id": "PHOTO1"})
    doc = add_message(engine, case_id, "", kind="media", meta={"media": "document", "file_id": "DOC1"})
    voice = add_message(engine, case_id, "", kind="media", meta={"media": "voice"})  # no file id kept
    page = agent.get(f"/cases/{case_id}").text
    assert f'href="/cases/{case_id}/media/{photo}"' in page and f'/cases/{case_id}/media/{voice}' not in page
    assert TOKEN not in page and "PHOTO1" not in page

    response = agent.get(f"/cases/{case_id}/media/{photo}")
    assert response.status_code == 200 and response.content == jpeg
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"].startswith("inline")
    assert response.headers["cache-control"] == "no-store" and response.headers["x-content-type-options"] == "nosniff"
    assert TOKEN not in str(response.headers)
    assert server.state.downloads == ["photos/file_7.jpg"]
    assert [c.params.get("file_id") for c in server.state.calls if c.method == "getFile"] == ["PHOTO1"]
    # a document never shows inline, whatever its name says
    response = agent.get(f"/cases/{case_id}/media/{doc}")
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == f'attachment; filename="case-{case_id}-{doc}.html"'
    download = agent.get(f"/cases/{case_id}/media/{photo}?download=1")
    assert download.headers["content-disposition"].startswith("attachment")
    # another case's message, a message without a file, an unknown message: not found
    other = add_case(engine)
    assert agent.get(f"/cases/{other}/media/{photo}").status_code == 404
    assert agent.get(f"/cases/{case_id}/media/{voice}").status_code == 404
    assert agent.get(f"/cases/{case_id}/media/99999").status_code == 404
    views = [a for a in rows(engine, store.audit_t) if a.action == "media_view"]
    assert [a.case_id for a in views] == [case_id] * 3


def test_a_file_the_bot_cannot_fetch_gives_a_clear_error_without_the_token(with_bot):
    console, server = with_bot
    agent = console.as_staff("amina", "agent")
    case_id = add_case(console.engine, status="claimed", assigned_to=1)
    gone = add_message(console.engine, case_id, "", kind="media", meta={"media": "photo", "file_id": "EXPIRED"})
    response = agent.get(f"/cases/{case_id}/media/{gone}")
    assert response.status_code == 502 and "could not be fetched through the bot" in response.text
    assert TOKEN not in response.text
    server.httpd.shutdown()  # the Bot API is not reachable
    server.httpd.server_close()
    response = agent.get(f"/cases/{case_id}/media/{gone}")
    assert response.status_code == 502 and TOKEN not in response.text


def test_without_a_bot_token_media_is_refused(console: Harness):
    agent = console.as_staff("amina", "agent")
    case_id = add_case(console.engine, status="claimed", assigned_to=1)
    message = add_message(console.engine, case_id, "", kind="media", meta={"media": "photo", "file_id": "P"})
    settings = console.app.state.console.settings
    console.app.state.console.settings = replace(settings, telegram_token="")
    response = agent.get(f"/cases/{case_id}/media/{message}")
    assert response.status_code == 503 and "no bot token" in response.text


def case_tag_count(engine) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(desk_store.case_tags)).scalar_one()


def desk_world(console: Harness, owner: int, case_id: int) -> dict:
    """For the route/role matrix (test_web_auth): a tag on the case, a saved view and a handover note of the
    owner, a media message; every route of this file has something real to act on (and to leave alone)."""
    from bot.web.store import get_staff

    engine, now = console.engine, console.clock.now
    with engine.begin() as conn:
        owner_staff = get_staff(conn, owner)
        tag = desk_store.create_tag(conn, owner_staff, "destination", "Libya", now)
        desk_store.tag_case(conn, case_id, owner_staff, tag, True, now)
        view = desk_store.save_view(conn, owner_staff, "mine", {"view": "mine"}, now)
        note = desk_store.write_handover(conn, owner_staff, "handover", now)
    message = add_message(engine, case_id, "", kind="media", meta={"media": "photo", "file_id": "P"})
    return {"tag": tag, "view": view, "note": note, "message": message}


def test_only_images_audio_and_video_show_inline():
    from bot.web.media import content_type

    assert content_type("photo", "photos/file_1.jpg") == ("image/jpeg", True)
    assert content_type("voice", "voice/file_2.oga") == ("audio/ogg", True)
    assert content_type("voice", "voice/file_2") == ("audio/ogg", True)
    assert content_type("document", "documents/page.html") == ("application/octet-stream", False)
    assert content_type("document", "documents/contract.pdf") == ("application/octet-stream", False)
    assert content_type("sticker", "stickers/file_3.tgs") == ("application/octet-stream", False)
    assert content_type("document", "documents/scan.png") == ("image/png", True)


def test_the_new_pages_speak_urdu_on_the_urdu_interface(console: Harness):
    boss = console.as_staff("sara", "supervisor", language="ur")
    other = console.as_staff("bilal", "agent")
    post(console, other, "/handover", text="note")
    assert post(console, boss, "/tags", kind="route", name="Gilgit - Karachi - Dubai").status_code == 303
    tags = boss.get("/tags").text
    assert "راستہ" in tags and "نیا ٹیگ" in tags and "Route" not in tags
    queue = boss.get("/queue").text
    assert "شفٹ کی حوالگی" in queue and "حوالگی کا نوٹ لکھیں" in queue and "یہ فلٹر منظر کے طور پر محفوظ کریں" in queue
    assert "ٹائم زون" in boss.get("/settings").text
    case_id = add_case(console.engine, status="claimed", assigned_to=1, language="ur")
    add_message(console.engine, case_id, "", kind="media", meta={"media": "voice", "file_id": "V"})
    page = boss.get(f"/cases/{case_id}").text
    assert "صوتی پیغام" in page and "ٹیگ لگائیں" in page
