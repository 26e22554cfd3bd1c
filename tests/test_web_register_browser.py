"""The console's OEP register import in a real browser (Debian's Chromium driven by Playwright, the console
served by uvicorn): a supervisor uploads the saved pages, reads the preview, applies it; then a later
snapshot with notices, confirms the notice matched by name, applies it; the bot's register follows."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from bot.config import ROOT
from bot.storage.register_store import NOTICES, load_register
from tests.test_web_browser import chromium_page, serve_console
from tests.web_support import PASSWORD, add_staff

DATA = Path(__file__).parent / "data" / "register"
SCREENSHOT = ROOT / "reports" / "console-register.png"


def test_a_supervisor_imports_the_register_in_the_browser(db_url):
    with serve_console(db_url) as console, chromium_page() as page:
        add_staff(console.engine, "sara", "supervisor")
        page.goto(console.url + "/login")
        page.fill("input[name=username]", "sara")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/queue$"))
        page.click('nav a[href="/register"]')
        page.wait_for_url(console.url + "/register")
        assert "The register is empty" in page.inner_text("#current")

        page.set_input_files("input[name=files]", sorted(str(p) for p in DATA.glob("list-of-oeps-page*.html")))
        page.fill("input[name=register_date]", "2026-11-30")
        page.click('#import-form button[type=submit]')
        page.wait_for_url(re.compile(r".*/register/imports/\d+$"))
        assert "First import: every agency is new." in page.content()
        page.click("#apply")
        page.wait_for_url(console.url + "/register?done=applied")
        assert "61 agencies" in page.inner_text("#current")

        page.set_input_files("input[name=files]", [str(DATA / "later-page1.html"), str(DATA / "notices.csv")])
        page.fill("input[name=register_date]", "2026-12-04")
        page.click('#import-form button[type=submit]')
        page.wait_for_url(re.compile(r".*/register/imports/\d+$"))
        assert "0090/KHI Demo Clifton Pearl Manpower: valid → expired" in page.inner_text("#status-changed")
        assert "0597/RWP" in page.inner_text("#gone")
        page.check('#notices input[type=checkbox]')
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        page.click("#apply")
        page.wait_for_url(console.url + "/register?done=applied")
        assert page.locator('#history tr[data-status="applied"]').count() == 2

        with console.engine.connect() as conn:
            register = load_register(conn)
            by_name = conn.execute(select(NOTICES.c.licence).where(NOTICES.c.linked_by == "name")).scalars().all()
        assert register.register_date.isoformat() == "2026-12-04" and "0611/LHR" in register.by_licence
        assert by_name == ["0169/RWP"] and register.by_licence["0169/RWP"].status == "suspended"
