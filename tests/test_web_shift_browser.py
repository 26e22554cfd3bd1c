"""The console for a long shift in a real browser, on the real Telegram path: Debian's Chromium driven by
Playwright, the console served by uvicorn, the bot as its own process (`safesafar run`, long polling) talking to
the Bot API server on 127.0.0.1 (tests/botapi_server.py), all on one database (SQLite and PostgreSQL). The NLU
is the stand-in of tests/test_workbench_browser.py (it only answers /status): the users' danger messages open
urgent cases through the danger phrases alone, as while the NLU is down.

The flow: an Urdu-speaking Telegram user writes that their brother is locked in a room; the agent claims the
urgent case and stays on its page; a second Telegram user writes an urgent message: the title counts it and a
browser notification is shown; Urdu text gets a line height of at least 2; the agent's reply (Ctrl+Enter) shows
pending while the Bot API server holds the bot's sendMessage to the user, then sent once the user received it;
a draft survives navigation; the Urdu user answers through the Bot API server and the marker appears in Mine
without a reload; a third user's urgent case waits while the pointer is over the queue, then shows highlighted;
resolving asks for an outcome and the closing message reaches the user. Screenshots at 1366x768 and 390x844 in
English and Urdu go to reports/."""
from __future__ import annotations

import html
import re

from bot.config import ROOT
from bot.web import store
from tests.botproc import wait_until
from tests.test_web_browser import (BOT_SECONDS, URGENT, USER, WAIT_MS, chromium, claim_from_queue, serve_console,
                                    telegram_with_bot, wait_for_staff_alert)
from tests.test_workbench_browser import nlu_stand_in
from tests.web_support import PASSWORD, add_staff, get_case, rows

USER_UR, USER_3 = 7302, 7303  # the Urdu-speaking user (a private chat: chat id = user id), a third user
URGENT_UR = "میرے بھائی کو لیبیا میں ایک کمرے میں بند کر رکھا ہے، مدد کریں"  # a strong danger phrase
REPLY_UR = "ہم یہاں ہیں۔ کیا آپ محفوظ ہیں؟"
ANSWER_UR = "جی، میں محفوظ ہوں"
URGENT_3 = "they locked my sister in a room in Muscat, help"
REPORTS = ROOT / "reports"
DESKTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
# records the notifications the page shows (headless Chromium has no notification centre to look at)
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = function (title, options) { window.__notifications.push({title: title, body: (options || {}).body}); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def new_page(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append((dialog.type, dialog.message))
        dialog.accept()
    page.on("dialog", on_dialog)
    return page


def log_in(page, console, username: str) -> None:
    page.goto(console.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/(queue|content)$"))


def wait_for_new_case(engine, known: set[int]) -> int:
    """The id of the case the bot opened that is not in `known` (within the bot's first answer's time)."""
    def found():
        return next((c.id for c in rows(engine, store.cases) if c.id not in known), None)
    case_id = wait_until(found, BOT_SECONDS)
    assert case_id, "the bot opened no case"
    return case_id


def as_received(text: str) -> str:
    """A message as the user reads it: without Telegram HTML escaping and bidi isolates."""
    return re.sub("[\u2066-\u2069]", "", html.unescape(text))


def line_height_ratio(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => { const s = getComputedStyle(el);"
                                           " return parseFloat(s.lineHeight) / parseFloat(s.fontSize); }")


def shot(page, name: str) -> None:
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / f"console-shift-{name}.png"), full_page=False)


def test_a_shift_in_the_browser(db_url, tmp_path):
    with serve_console(db_url) as console, nlu_stand_in() as nlu_url, \
            telegram_with_bot(nlu_url, db_url, tmp_path / "bot.log") as telegram, chromium() as browser:
        engine, api = console.engine, telegram.server.state
        agent = add_staff(engine, "amina", "agent", display_name="Amina")
        page = new_page(browser)
        log_in(page, console, "amina")

        # opt in to notifications and sound (stored for the person)
        page.goto(console.url + "/settings")
        page.check("#pref-notify")
        page.check("#pref-sound")
        page.click("#save-settings")
        page.wait_for_url(console.url + "/settings?done=1")
        assert page.get_attribute("body", "data-notify") == "1"

        # an Urdu-speaking user writes that their brother is locked in: the bot opens an urgent case; the agent claims it
        page.goto(console.url + "/queue?view=unassigned")
        telegram.user_writes(URGENT_UR, user=USER_UR, language_code="ur")
        telegram.wait_for_message_to_user(lambda text: "1122" in text, "the emergency numbers", BOT_SECONDS, USER_UR)
        mine = wait_for_new_case(engine, set())
        assert (get_case(engine, mine)["priority"], get_case(engine, mine)["language"]) == ("urgent", "ur")
        page.wait_for_selector(f'tr[data-case="{mine}"]')
        claim_from_queue(page, console, mine)
        assert get_case(engine, mine)["assigned_to"] == agent
        wait_for_staff_alert(telegram, mine)

        # the agent works on that case; another user's urgent case arrives: the title counts it, a notification is shown
        page.wait_for_function("() => document.title.indexOf('Case #') === 0")
        page.wait_for_timeout(1500)  # the first pulse sets what was already there
        telegram.user_writes(URGENT, user=USER)
        page.wait_for_function("() => document.title.indexOf('(1) Case #') === 0")
        urgent = wait_for_new_case(engine, {mine})
        assert get_case(engine, urgent)["priority"] == "urgent"
        page.wait_for_function("() => window.__notifications.length === 1")
        note = page.evaluate("window.__notifications[0]")
        assert note == {"title": "New URGENT case", "body": f"#{urgent}"}
        assert page.locator(f'#pulse-banner a[href="/cases/{urgent}"]').is_visible()
        telegram.wait_for_message_to_user(lambda text: f"number {urgent}" in text, "the urgent case's number")
        wait_for_staff_alert(telegram, urgent)  # the bot has nothing else to send now

        # Urdu text: line height at least 2 in the bubble and in the reply box (English interface)
        assert URGENT_UR in page.locator("#transcript").inner_text()
        assert line_height_ratio(page, "#transcript .body[lang=ur]") >= 2
        assert line_height_ratio(page, "#reply-text") >= 2
        shot(page, "case-en-desktop")

        # a reply: Ctrl+Enter sends, the page comes back; it shows pending while the Bot API server holds the
        # bot's sendMessage to the user, and sent once the user received it
        api.hold(USER_UR)
        try:
            page.fill("#reply-text", REPLY_UR)
            page.press("#reply-text", "Control+Enter")
            page.wait_for_url(f"{console.url}/cases/{mine}?done=replied")
            page.wait_for_selector('#transcript [data-delivery="pending"]')
            assert page.input_value("#reply-text") == ""
            assert not any(REPLY_UR in m.text for m in api.messages_to(USER_UR))
        finally:
            api.release(USER_UR)
        telegram.wait_for_message_to_user(lambda text: REPLY_UR in as_received(text), "the hotline's reply", user=USER_UR)
        page.wait_for_selector('#transcript [data-delivery="sent"]')
        assert page.locator('#transcript [data-delivery="pending"]').count() == 0

        # a draft survives navigation (with a warning before leaving)
        page.fill("#reply-text", "draft in progress")
        page.goto(console.url + "/queue?view=mine")
        assert any(kind == "beforeunload" for kind, _ in page.dialogs)
        page.goto(f"{console.url}/cases/{mine}")
        assert page.input_value("#reply-text") == "draft in progress"
        page.fill("#reply-text", "")
        page.dispatch_event("#reply-text", "input")

        # the user answers through the Bot API server: the marker appears in Mine without a reload
        page.goto(console.url + "/queue?view=mine")
        page.evaluate("window.__notReloaded = true")
        assert page.locator(f'tr[data-case="{mine}"]').count() == 1
        assert page.locator(f'tr[data-case="{mine}"] [data-marker="new-message"]').count() == 0
        telegram.user_writes(ANSWER_UR, user=USER_UR, language_code="ur")
        page.wait_for_selector(f'tr[data-case="{mine}"] [data-marker="new-message"]')
        assert page.locator(f'[data-waiting-since="{mine}"]').is_visible()
        assert page.evaluate("window.__notReloaded === true"), "the queue reloaded instead of updating itself"
        assert ("in", ANSWER_UR) in [(m.direction, m.text) for m in rows(engine, store.messages,
                                                                        store.messages.c.case_id == mine)]

        # new rows wait while the pointer is over the queue (no Claim button moves under it), then show highlighted
        page.goto(console.url + "/queue?view=unassigned")
        page.wait_for_selector(f'tr[data-case="{urgent}"]')
        page.hover(f'tr[data-case="{urgent}"] button')
        telegram.user_writes(URGENT_3, user=USER_3)
        page.wait_for_selector("table.queue.has-pending")
        second = wait_for_new_case(engine, {mine, urgent})
        box_before = page.locator(f'tr[data-case="{urgent}"] button').bounding_box()
        assert page.locator(f'tr[data-case="{second}"]').count() == 0
        page.mouse.move(5, 5)
        page.wait_for_selector(f'tr[data-case="{second}"].is-new')
        assert box_before is not None
        shot(page, "queue-en-desktop")

        # resolving asks for an outcome, and confirms when the user's message has no answer
        page.goto(f"{console.url}/cases/{mine}")
        page.click("#resolve")
        page.click("#resolve-confirm")  # no outcome chosen: the form does not go
        assert get_case(engine, mine)["status"] == "claimed"
        # the closing message follows the outcome until the person writes their own
        page.check('input[name=outcome][value="referred_1122"]')
        emergency = page.input_value("#closing-text")
        assert "1122" in emergency
        page.check('input[name=outcome][value="no_contact"]')
        assert page.input_value("#closing-text") not in ("", emergency)
        page.fill("#closing-text", "my own words")
        page.check('input[name=outcome][value="referred_fia"]')
        assert page.input_value("#closing-text") == "my own words"
        page.fill("#closing-text", "")
        page.check('input[name=outcome][value="information"]')
        closing = page.input_value("#closing-text")
        assert closing and closing != emergency
        page.click("#resolve-confirm")
        page.wait_for_url(f"{console.url}/cases/{mine}?done=resolved")
        assert closing in [m.text for m in rows(engine, store.messages, store.messages.c.case_id == mine)]
        telegram.wait_for_message_to_user(lambda text: closing in as_received(text), "the closing message", user=USER_UR)
        assert any(kind == "confirm" for kind, _ in page.dialogs)
        case = get_case(engine, mine)
        assert (case["status"], case["outcome"]) == ("resolved", "information")

        # phone width and the Urdu interface: screenshots, line heights
        for viewport, width in ((DESKTOP, "desktop"), (PHONE, "phone")):
            for lang in ("en", "ur"):
                username = f"s_{lang}_{width}"
                add_staff(engine, username, "agent", language=lang)
                p = new_page(browser, viewport)
                log_in(p, console, username)
                p.goto(console.url + "/queue?view=all")
                p.wait_for_selector(f'tr[data-case="{second}"]')
                shot(p, f"queue-{lang}-{width}")
                p.goto(f"{console.url}/cases/{mine}")
                assert line_height_ratio(p, "#transcript .body[lang=ur]") >= 2
                shot(p, f"case-{lang}-{width}")
                if width == "phone":  # the conversation comes before the notes
                    top = p.locator("#conversation").bounding_box()["y"]
                    assert top < p.locator("section.facts").bounding_box()["y"]
                p.context.close()
        assert [a.action for a in rows(engine, store.audit_t) if a.case_id == mine][-1] == "status"
