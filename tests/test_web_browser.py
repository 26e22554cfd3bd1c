"""The staff console in a real browser, on the real Telegram path: Debian's Chromium driven by Playwright
(no browser download; `scripts/chromium.sh install` provides /usr/bin/chromium, `make test` calls it),
the bot as its own process (`safesafar run`, long polling, the real NLU) talking to a Bot API server on
127.0.0.1, and the console served by uvicorn, all on one database.

The flow: an agent logs in and keeps the queue open; a Telegram user writes an urgent message through
the Bot API server; the bot opens the case and the queue shows it without a reload (screenshot); the agent
claims it, inserts a canned reply, writes an answer and sends it; the bot delivers it and the user
receives it through the Bot API server with the hotline header; the user answers through the Bot API
server; the answer appears on the open case page without a reload; the agent resolves the case.
"""
from __future__ import annotations

import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config import ROOT
from bot.web import store
from bot.web.app import create_app
from tests.botapi_server import BotAPIServer, SentMessage, text_update
from tests.botproc import BotProcess, wait_until
from tests.conftest import free_port
from tests.web_support import PASSWORD, add_staff, get_case, rows

pytestmark = pytest.mark.rasa

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOT = ROOT / "reports" / "console-queue.png"
WAIT_MS = 15_000
BOT_SECONDS = 90  # the bot's first answer includes its start (imports, NLU warm-up)

USER = 7301  # the Telegram user (a private chat: chat id = user id)
STAFF_CHAT = -100_7301  # the staff group the bot alerts
URGENT = "they locked my brother in a room in Tripoli, please help"
REPLY = "We are here. Are you safe right now?"
ANSWER = "Yes, I am at a friend's place in Tripoli"
HOTLINE_REPLY = f"<b>SafeSafar team</b>\n{REPLY}"


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
def chromium():
    """Debian's Chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/chromium.sh install` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page():
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 1360, "height": 900}).new_page()
        page.set_default_timeout(WAIT_MS)
        yield page


# -- Telegram: the Bot API server on 127.0.0.1 and the bot process polling it --------------------------------

@dataclass
class Telegram:
    server: BotAPIServer
    bot: BotProcess

    def user_writes(self, text: str, user: int = USER, language_code: str = "en") -> None:
        self.server.state.push(text_update(user, text, language_code))

    def wait_for_message_to_user(self, condition, what: str, timeout: float = 30, user: int = USER) -> SentMessage:
        def found():
            return next((m for m in self.server.state.messages_to(user) if condition(m.text)), None)
        try:
            return self.server.state.wait_for(found, timeout)
        except TimeoutError:
            sent = [m.text[:80] for m in self.server.state.messages_to(user)]
            pytest.fail(f"the user did not receive {what}; they received {sent}\n--- bot log ---\n"
                        f"{self.bot.log()[-3000:]}")


@contextmanager
def telegram_with_bot(rasa_url: str, db_url: str, log_path: Path):
    """The Bot API server and `safesafar run` against it (with the real NLU and the test database)."""
    with BotAPIServer() as server:
        bot = BotProcess(server.base_url, rasa_url, db_url, staff_chat_id=str(STAFF_CHAT), log_path=log_path,
                         CONSOLE_AUTOSTART="false").start()
        try:
            yield Telegram(server, bot)
        finally:
            bot.stop()


# -- steps of the flow ---------------------------------------------------------------------------------------

def log_in(page, console: LiveConsole, username: str, password: str = PASSWORD) -> None:
    page.goto(console.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(console.url + "/queue")


def mark_page(page) -> None:
    """A flag that disappears if the page reloads: what follows must update the page in place."""
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded instead of updating itself"


def open_queue(page, console: LiveConsole, view: str = "unassigned") -> None:
    page.goto(f"{console.url}/queue?view={view}")
    mark_page(page)


def bot_acknowledges_urgent_case(telegram: Telegram) -> int:
    """The bot's answer to the urgent message (the emergency numbers, the case number); the case's id."""
    telegram.wait_for_message_to_user(lambda text: "1122" in text, "the emergency numbers", timeout=BOT_SECONDS)
    ack = telegram.wait_for_message_to_user(lambda text: "urgent case" in text, "the urgent case's number")
    match = re.search(r"urgent case \(number (\d+)\)", ack.text)
    assert match, ack.text
    return int(match.group(1))


def wait_for_staff_alert(telegram: Telegram, case_id: int) -> None:
    state = telegram.server.state
    state.wait_for(lambda: any(f"#{case_id}" in m.text for m in state.messages_to(STAFF_CHAT)), 30)


def wait_for_case_in_queue(page, case_id: int) -> None:
    page.wait_for_selector(f'tr[data-case="{case_id}"]')
    assert_not_reloaded(page)


def take_queue_screenshot(page) -> None:
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def claim_from_queue(page, console: LiveConsole, case_id: int) -> None:
    page.click(f'tr[data-case="{case_id}"] button:has-text("Claim")')
    page.wait_for_url(f"{console.url}/cases/{case_id}?done=claimed")


def reply_in_console(page, text: str) -> None:
    """Inserts the first canned reply in the case's language, then replaces it with `text` and sends."""
    box = page.locator("#reply-text")
    button = page.locator("details.canned li:not(.other-language) [data-insert]").first
    expected = button.get_attribute("data-insert")
    button.click()
    assert box.input_value() == expected  # the canned reply went into the box
    box.fill(text)
    page.click("#send-reply")
    page.wait_for_selector("p.flash.ok")


def wait_for_message_on_case_page(page, text: str) -> None:
    page.wait_for_selector(f'#transcript li[data-message]:has-text("{text}")')
    assert_not_reloaded(page)


def resolve(page, console: LiveConsole, case_id: int) -> None:
    """Resolving asks for an outcome, and to confirm when the user's last message has no answer."""
    page.click("#resolve")
    page.check('input[name=outcome][value="information"]')
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.click("#resolve-confirm")
    page.wait_for_url(f"{console.url}/cases/{case_id}?done=resolved")
    assert dialogs == ["confirm"]  # the user's answer was the last message


def reply_outbox_status(console: LiveConsole, case_id: int) -> str:
    (out,) = rows(console.engine, store.outbox, store.outbox.c.case_id == case_id, store.outbox.c.kind == "staff_reply")
    assert out.chat_id == str(USER)
    return out.status


def case_messages(console: LiveConsole, case_id: int) -> list[tuple[str, str]]:
    return [(m.direction, m.text) for m in rows(console.engine, store.messages, store.messages.c.case_id == case_id)]


# -- the test ----------------------------------------------------------------------------------------------

def test_agent_answers_a_telegram_user_in_the_browser(rasa_url, db_url, tmp_path):
    with serve_console(db_url) as console, telegram_with_bot(rasa_url, db_url, tmp_path / "bot.log") as telegram, \
            chromium_page() as page:
        agent_id = add_staff(console.engine, "amina", "agent", display_name="Amina")
        log_in(page, console, "amina")
        open_queue(page, console)
        assert page.locator("tr[data-case]").count() == 0

        # a Telegram user in danger writes; the bot opens an urgent case and the open queue shows it
        telegram.user_writes(URGENT)
        case_id = bot_acknowledges_urgent_case(telegram)
        wait_for_case_in_queue(page, case_id)
        row = page.locator(f'tr[data-case="{case_id}"]')
        assert "Urgent" in row.inner_text()
        assert page.locator('[data-count="unassigned"]').inner_text() == "1"
        take_queue_screenshot(page)
        wait_for_staff_alert(telegram, case_id)

        claim_from_queue(page, console, case_id)
        assert URGENT in page.locator("#transcript").inner_text()

        # the reply goes through the outbox; the bot delivers it to the user through the Bot API
        reply_in_console(page, REPLY)
        mark_page(page)
        telegram.wait_for_message_to_user(lambda text: text == HOTLINE_REPLY, "the hotline's reply")
        assert wait_until(lambda: reply_outbox_status(console, case_id) == "sent", 10)  # marked after sending

        # the user answers through the Bot API; the open case page shows it without a reload
        telegram.user_writes(ANSWER)
        wait_for_message_on_case_page(page, ANSWER)
        assert ("in", ANSWER) in case_messages(console, case_id)
        assert get_case(console.engine, case_id)["status"] == "claimed"  # back from waiting for the user
        page.wait_for_selector("#case-changed", state="visible")  # the page noticed the new status

        resolve(page, console, case_id)
        case = get_case(console.engine, case_id)
        assert (case["status"], case["assigned_to"], case["priority"]) == ("resolved", agent_id, "urgent")
        assert case["resolved_at"] is not None and case["first_response_at"] is not None
        actions = [a.action for a in rows(console.engine, store.audit_t) if a.case_id == case_id]
        assert actions == ["case_opened", "claim", "reply", "reply", "status"]  # the reply, the closing message
        messages = case_messages(console, case_id)
        assert messages[0] == ("in", URGENT) and ("staff", REPLY) in messages
