"""The console's import page for the OEP register: upload, the preview (new, gone, status changed, expiry
moved, notices with name matches to confirm), apply or discard, the audit log; problems named by file and
row with nothing stored. SQLite and PostgreSQL."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.storage.register_store import IMPORTS, NOTICES, load_register
from bot.web import store
from tests.web_support import Harness, csrf_from, rows

DATA = Path(__file__).parent / "data" / "register"
PAGES = sorted(DATA.glob("list-of-oeps-page*.html"))


def upload(client, paths, day="2026-11-30"):
    token = csrf_from(client.get("/register").text)
    files = [("files", (p.name, p.read_bytes(), "text/html" if p.suffix == ".html" else "text/csv")) for p in paths]
    return client.post("/register/import", data={"csrf": token, "register_date": day}, files=files)


def test_import_preview_apply_and_audit(console: Harness):
    client = console.as_staff("sara", "supervisor")
    page = client.get("/register")
    assert page.status_code == 200 and "The register is empty" in page.text

    response = upload(client, PAGES)
    assert response.status_code == 303
    preview_url = response.headers["location"]
    preview = client.get(preview_url)
    assert "First import: every agency is new." in preview.text and ">61<" in preview.text
    with console.engine.connect() as conn:
        assert load_register(conn) is None  # nothing applies before the confirmation
    token = csrf_from(preview.text)
    applied = client.post(preview_url + "/apply", data={"csrf": token})
    assert applied.status_code == 303 and applied.headers["location"] == "/register?done=applied"
    page = client.get("/register?done=applied")
    assert "The import was applied" in page.text and "61 agencies" in page.text
    assert client.post(preview_url + "/apply", data={"csrf": token}).status_code == 409  # once only

    response = upload(client, [DATA / "later-page1.html", DATA / "notices.csv"], day="2026-12-04")
    preview_url = response.headers["location"]
    preview = client.get(preview_url)
    text = preview.text
    assert "0611/LHR Sample New Horizon Overseas Employment Promoters" in text  # new
    assert "0597/RWP Demo Rakaposhi View International" in text  # gone
    assert "0090/KHI Demo Clifton Pearl Manpower: valid → expired" in text  # status changed
    assert "0017/RWP M/s Example Hunza Peak Manpower Services: 2027-06-30 → 2029-06-30" in text  # expiry moved
    boxes = re.findall(r'name="(accept_\d+)"', text)
    assert len(boxes) == 1  # the suspension notice that names no licence: matched by name, to confirm
    assert "0169/RWP Dummy Deosai Plains Manpower Services" in text
    client.post(preview_url + "/apply", data={"csrf": csrf_from(text), boxes[0]: "1"})
    with console.engine.connect() as conn:
        register = load_register(conn)
        linked = conn.execute(select(NOTICES.c.licence, NOTICES.c.linked_by).where(NOTICES.c.licence.is_not(None))
                              .order_by(NOTICES.c.id)).all()
    assert register.register_date.isoformat() == "2026-12-04"
    assert register.by_licence["0169/RWP"].status == "suspended"
    assert [tuple(r) for r in linked] == [("0008/RWP", "licence"), ("0127/MULTAN", "licence"), ("0169/RWP", "name")]
    audit = [(a.actor, a.action, a.detail.get("new")) for a in rows(console.engine, store.audit_t)
             if a.action.startswith("register")]
    assert audit == [("sara", "register_import", 61), ("sara", "register_import", 1)]
    assert "register_import" in client.get("/audit").text


def test_problems_are_named_and_nothing_is_stored(console: Harness):
    client = console.as_staff("sara", "admin")
    response = upload(client, [*PAGES, DATA / "broken-page.html"])
    assert response.status_code == 400
    assert "broken-page.html, row 2: licence number &#39;12AB&#39; is not like 1234/RWP" in response.text
    assert "broken-page.html, row 4: not a date" in response.text
    assert rows(console.engine, IMPORTS) == []
    token = csrf_from(client.get("/register").text)
    assert client.post("/register/import", data={"csrf": token, "register_date": "2026-11-30"}).status_code == 400
    assert upload(client, PAGES, day="30/11/2026").status_code == 400  # the date as ISO only
    assert rows(console.engine, IMPORTS) == []


def test_discard(console: Harness):
    client = console.as_staff("sara", "supervisor")
    preview_url = upload(client, PAGES).headers["location"]
    token = csrf_from(client.get(preview_url).text)
    assert client.post(preview_url + "/discard", data={"csrf": token}).headers["location"] == "/register?done=discarded"
    assert [r.status for r in rows(console.engine, IMPORTS)] == ["discarded"]
    assert client.post(preview_url + "/apply", data={"csrf": token}).status_code == 409
    assert "The register is empty" in client.get("/register").text
    assert client.get("/register/imports/999").status_code == 404


def test_agents_cannot_upload_and_anonymous_files_are_not_read(console: Harness):
    agent = console.as_staff("ali", "agent")
    token = console.token(agent)
    files = [("files", (PAGES[0].name, PAGES[0].read_bytes(), "text/html"))]
    assert agent.post("/register/import", data={"csrf": token, "register_date": "2026-11-30"},
                      files=files).status_code == 403
    anonymous = console.client()
    response = anonymous.post("/register/import", data={"register_date": "2026-11-30"}, files=files)
    # no session: refused (to the login page) before the body is read
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert rows(console.engine, IMPORTS) == []


def test_the_pages_in_urdu(console: Harness):
    client = console.as_staff("nadia", "supervisor", language="ur")
    page = client.get("/register").text
    assert "لائسنس یافتہ \u2066OEPs\u2069 کا رجسٹر" in page  # Latin words bidi-isolated in Urdu
    preview = client.get(upload(client, PAGES).headers["location"])
    assert preview.status_code == 200 and "پہلا امپورٹ: ہر ایجنسی نئی ہے۔" in preview.text
