"""The content workbench in a real browser, on the real Telegram path (issue 19): Debian's Chromium driven by
Playwright, the console served by uvicorn, the bot as its own process (`safesafar run`, long polling, its
content from the database) talking to a Bot API server on 127.0.0.1, all on one database (SQLite and
PostgreSQL). The NLU is a stand-in that only answers /status: the Telegram user presses buttons (the
language, a topic), which need no NLU.

The flow: a Telegram user reads an answer in Urdu; an editor (console in Urdu) changes the Urdu answer and
sees the live preview (screenshot); a publisher approves it; the user gets the new text within 5 s; the
history shows the per-language diff (screenshot); the editor reverts, the publisher approves, and the user
gets the old text back within 5 s; a second editor's stale save gets the conflict page.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.config import ROOT
from tests.botapi_server import BotAPIServer, button_update, text_update
from tests.botproc import BotProcess
from tests.http_stub import serve
from tests.test_web_browser import CHROMIUM_ARGS, WAIT_MS, chromium, serve_console
from tests.web_support import PASSWORD, add_staff

USER = 7401
TOPIC = "abroad_in_trouble"
OLD_FIRST_LINE = "بیرونِ ملک مشکل میں ہیں؟ پاکستانی سفارت خانے یا قونصل خانے سے رابطہ کریں"
NEW_FIRST_LINE = "بیرونِ ملک پریشانی میں ہیں؟ پاکستانی سفارت خانے یا قونصل خانے سے رابطہ کریں"  # as many words
LIVE_SECONDS = 5
SHOTS = ROOT / "reports"


@contextmanager
def nlu_stand_in():
    """Answers Rasa's /status (so that `safesafar run` starts); parsing is refused (the bot answers as while
    the NLU is down, which this test never needs)."""
    async def status(request):
        return JSONResponse({"model_file": "stand-in.tar.gz", "fingerprint": {}})

    async def refuse(request):
        return JSONResponse({"error": "stand-in"}, status_code=503)

    app = Starlette(routes=[Route("/status", status), Route("/{path:path}", refuse, methods=["GET", "POST"])])
    with serve(app) as url:
        yield url


class TelegramUser:
    def __init__(self, server: BotAPIServer):
        self.server = server
        self.last = None  # the newest message with buttons (a button press needs the message it is under)

    def messages(self):
        return self.server.state.messages_to(USER)

    def wait(self, condition, timeout: float = 60):
        def found():
            return next((m for m in reversed(self.messages()) if condition(m)), None)
        return self.server.state.wait_for(found, timeout)

    def write(self, text: str) -> None:
        self.server.state.push(text_update(USER, text))

    def press(self, data: str) -> None:
        self.server.state.push(button_update(USER, data, self.last))

    def choose_urdu(self) -> None:
        self.write("/language")
        self.last = self.wait(lambda m: "lang:ur" in str(m.reply_markup), timeout=90)
        self.press("lang:ur")
        picker = self.last.message_id
        self.last = self.wait(lambda m: m.reply_markup and m.message_id > picker)  # the menu, in Urdu

    def read_topic(self, wanted: str, timeout: float) -> float:
        """Presses the topic's button (again every half second) until the answer holds `wanted`: the seconds
        it took."""
        started = time.monotonic()
        seen = len(self.messages())
        while time.monotonic() - started < timeout:
            self.press(f"topic:{TOPIC}")
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                fresh = self.messages()[seen:]
                if any(wanted in m.text for m in fresh):
                    return time.monotonic() - started
                time.sleep(0.05)
        raise AssertionError(f"the user did not get {wanted!r} within {timeout} s; last: "
                             f"{[m.text[:60] for m in self.messages()[-3:]]}")


def log_in(page, url: str, username: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def approve(page, url: str) -> None:
    page.goto(url + "/content/review")
    page.click(f'#item-topic-{TOPIC} button.approve')
    page.wait_for_url(url + "/content/review?done=approved")


def test_editor_publisher_and_telegram_user(db_url, tmp_path):
    with serve_console(db_url) as console, nlu_stand_in() as nlu_url, BotAPIServer() as api, chromium() as browser:
        add_staff(console.engine, "kiran", "editor", language="ur", display_name="Kiran")
        add_staff(console.engine, "bilal", "editor", display_name="Bilal")
        add_staff(console.engine, "sana", "supervisor", display_name="Sana")
        pages = {}
        for name in ("kiran", "bilal", "sana"):
            pages[name] = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
            pages[name].set_default_timeout(WAIT_MS)
            log_in(pages[name], console.url, name)
        editor, second, publisher = pages["kiran"], pages["bilal"], pages["sana"]
        editor.goto(f"{console.url}/content/topics/{TOPIC}")  # seeds the database from content/ (idempotent)

        bot = BotProcess(api.base_url, nlu_url, db_url, log_path=tmp_path / "bot.log").start()
        try:
            user = TelegramUser(api)
            user.choose_urdu()
            user.read_topic(OLD_FIRST_LINE, timeout=30)

            # a second editor opens the same topic now (version 1)
            second.goto(f"{console.url}/content/topics/{TOPIC}")

            # the editor changes the Urdu answer and sees the preview (the bot's renderer)
            answer = editor.locator("textarea[name=answer_ur]")
            assert answer.get_attribute("dir") == "rtl" and answer.get_attribute("lang") == "ur"
            answer.fill(answer.input_value().replace(OLD_FIRST_LINE, NEW_FIRST_LINE))
            editor.wait_for_selector(f'#preview-ur .tg-text:has-text("{NEW_FIRST_LINE}")')
            assert editor.locator("#preview-ur .words").get_attribute("data-words").isdigit()
            font = editor.evaluate("getComputedStyle(document.querySelector('textarea[name=answer_ur]')).fontFamily")
            assert "Nastaliq" in font or "Naskh" in font
            SHOTS.mkdir(parents=True, exist_ok=True)
            editor.screenshot(path=str(SHOTS / "workbench-topic-editor-ur.png"), full_page=True)
            editor.click("#save-draft")
            editor.wait_for_url(f"{console.url}/content/topics/{TOPIC}?done=saved")

            # the publisher approves; the Telegram user gets the new text within 5 s
            approve(publisher, console.url)
            seconds = user.read_topic(NEW_FIRST_LINE, timeout=LIVE_SECONDS)
            print(f"\npublish -> user: {seconds:.2f} s")

            # the history shows the change per language; the editor reverts to version 1
            editor.goto(f"{console.url}/content/history/topic/{TOPIC}")
            editor.wait_for_selector('#v2 .change[data-language="ur"] table.diff')
            editor.locator("#v2").screenshot(path=str(SHOTS / "workbench-history-diff.png"))
            editor.click('#v1 button.revert')
            editor.wait_for_url(f"{console.url}/content/history/topic/{TOPIC}?done=reverted")
            approve(publisher, console.url)
            seconds = user.read_topic(OLD_FIRST_LINE, timeout=LIVE_SECONDS)
            print(f"revert -> user: {seconds:.2f} s")

            # the second editor still has version 1 open: the save is refused with the conflict and its diff
            second.locator("textarea[name=answer_en]").fill("A stale edit.")
            second.click("#save-draft")
            second.wait_for_selector("#conflict")
            assert "version 1" in second.locator("#conflict").inner_text()
            assert second.locator("table.diff").count() >= 1
        finally:
            bot.stop()
