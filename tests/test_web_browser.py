"""The staff console in a real browser: Debian's Chromium, driven by Playwright (no browser download;
`scripts/chromium.sh install` provides /usr/bin/chromium, `make test` calls it).

The flow: an agent logs in; an urgent case is written into the database while the queue page is open and
appears without a reload; the agent claims it, inserts a canned reply and sends an answer; the outbox row
for the user's chat is there; the user's answer (a message row joining the case) appears on the open case
page; the agent resolves the case. Each step is a helper so that the same flow can later drive the real
Telegram path (the bot delivering the outbox row, the user answering through the Bot API).
"""
from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.config import ROOT
from bot.web import store
from bot.web.app import create_app
from tests.conftest import free_port
from tests.web_support import PASSWORD, add_case, add_message, add_staff, get_case, rows

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = ROOT / "reports" / "console-queue.png"
WAIT_MS = 15_000


# -- the console, served for real --------------------------------------------------------------------------

@dataclass
class LiveConsole:
    url: str
    engine: object
    app: object


@contextmanager
def serve_console(db_url: str, poll_seconds: float = 1.0):
    """The console on a free 127.0.0.1 port (uvicorn in a thread), with the real clock."""
    import uvicorn

    app = create_app(db_url, secret="browser-test", fast_hashing=True, poll_seconds=poll_seconds)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        yield LiveConsole(f"http://127.0.0.1:{port}", app.state.console.engine, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.console.engine.dispose()


@contextmanager
def chromium_page():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/chromium.sh install` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
            page.set_default_timeout(WAIT_MS)
            yield page
        finally:
            browser.close()


# -- steps of the flow ---------------------------------------------------------------------------------------

def log_in(page, console: LiveConsole, username: str, password: str = PASSWORD) -> None:
    page.goto(console.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(console.url + "/queue")


def open_queue(page, console: LiveConsole, view: str = "unassigned") -> None:
    page.goto(f"{console.url}/queue?view={view}")
    page.evaluate("window.__notReloaded = true")  # gone if the page reloads


def escalate_urgent_case(console: LiveConsole, text: str, language: str = "en") -> int:
    """What the bot writes when someone in danger writes: a user and an urgent case (the real path comes later)."""
    now = datetime.now(timezone.utc)
    return add_case(console.engine, priority="urgent", reason="emergency", language=language, created_at=now,
                    summary="Emergency · en", transcript=[{"direction": "in", "kind": "text", "text": text,
                                                          "at": now.isoformat()}])


def wait_for_case_in_queue(page, case_id: int) -> None:
    page.wait_for_selector(f'tr[data-case="{case_id}"]')
    assert page.evaluate("window.__notReloaded === true"), "the queue page reloaded instead of updating itself"


def claim_from_queue(page, console: LiveConsole, case_id: int) -> None:
    page.click(f'tr[data-case="{case_id}"] button:has-text("Claim")')
    page.wait_for_url(f"{console.url}/cases/{case_id}?done=claimed")


def reply_in_console(page, text: str, canned_first: bool = True) -> None:
    box = page.locator("#reply-text")
    if canned_first:
        button = page.locator("details.canned li:not(.other-language) [data-insert]").first
        expected = button.get_attribute("data-insert")
        button.click()
        assert box.input_value() == expected  # the canned reply went into the box
    box.fill(text)
    page.click("#send-reply")
    page.wait_for_selector("p.flash.ok")


def outbox_for(console: LiveConsole, case_id: int) -> list:
    return rows(console.engine, store.outbox, store.outbox.c.case_id == case_id)


def user_answers(console: LiveConsole, case_id: int, text: str) -> int:
    """The user's answer as the bot records it: a message joining the case, the case back from waiting."""
    now = datetime.now(timezone.utc)
    message_id = add_message(console.engine, case_id, text, direction="in", at=now)
    with console.engine.begin() as conn:
        conn.execute(update(store.cases).where(store.cases.c.id == case_id, store.cases.c.status == "waiting")
                     .values(status="claimed", last_user_message_at=now, updated_at=now,
                             version=store.cases.c.version + 1))
    return message_id


def wait_for_message(page, message_id: int, text: str) -> None:
    item = page.wait_for_selector(f'#transcript li[data-message="{message_id}"]')
    assert text in item.inner_text()


def resolve(page, console: LiveConsole, case_id: int) -> None:
    page.click("#resolve")
    page.wait_for_url(f"{console.url}/cases/{case_id}?done=status")


# -- the test ----------------------------------------------------------------------------------------------

def test_agent_works_an_urgent_case_in_the_browser(db_url):
    with serve_console(db_url) as console, chromium_page() as page:
        agent_id = add_staff(console.engine, "amina", "agent", display_name="Amina")
        log_in(page, console, "amina")
        open_queue(page, console)
        assert page.locator("tr[data-case]").count() == 0

        case_id = escalate_urgent_case(console, "They took my passport <b>help</b>")
        wait_for_case_in_queue(page, case_id)
        row = page.locator(f'tr[data-case="{case_id}"]')
        assert "Urgent" in row.inner_text()
        assert page.locator('[data-count="unassigned"]').inner_text() == "1"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        claim_from_queue(page, console, case_id)
        assert "They took my passport <b>help</b>" in page.locator("#transcript").inner_text()  # shown as text

        reply_in_console(page, "We are here. Are you safe right now?")
        (out,) = outbox_for(console, case_id)
        user_chat = rows(console.engine, store.users, store.users.c.id == get_case(console.engine, case_id)["user_id"])[0].chat_id
        assert (out.kind, out.chat_id, out.status) == ("staff_reply", user_chat, "pending")
        assert out.payload["text"] == "<b>SafeSafar hotline</b>\nWe are here. Are you safe right now?"
        assert get_case(console.engine, case_id)["status"] == "waiting"

        message_id = user_answers(console, case_id, "Yes, I am at a friend's place")
        wait_for_message(page, message_id, "Yes, I am at a friend's place")

        resolve(page, console, case_id)
        case = get_case(console.engine, case_id)
        assert (case["status"], case["assigned_to"]) == ("resolved", agent_id)
        assert case["resolved_at"] is not None and case["first_response_at"] is not None
        actions = [a.action for a in rows(console.engine, store.audit_t) if a.case_id == case_id]
        assert actions == ["claim", "reply", "status"]
