"""The console for a long shift in a real browser (Debian's Chromium driven by Playwright, the console served by
uvicorn; cases and the user's messages are written into the database as the bot writes them): a new urgent
case reaches an agent on another case's page (title count, browser notification), new rows wait while the
pointer is over the queue, the user's answer marks the case in Mine, a reply shows pending then sent, a draft
survives navigation, Ctrl+Enter sends, resolving asks for an outcome; Urdu text gets a line height of at least
2 on both interfaces. Screenshots at 1366x768 and 390x844 in English and Urdu go to reports/."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import update

from bot.config import ROOT
from bot.web import store
from tests.test_web_browser import WAIT_MS, chromium, serve_console
from tests.web_support import PASSWORD, add_case, add_message, add_staff, get_case, rows

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


def now() -> datetime:
    return datetime.now(timezone.utc)


def user_answers(engine, case_id: int, text: str) -> None:
    """As the bot writes a user's answer: the message, the case back from waiting for the user."""
    add_message(engine, case_id, text, at=now())
    with engine.begin() as conn:
        conn.execute(update(store.cases).where(store.cases.c.id == case_id).values(
            status="claimed", last_user_message_at=now(), version=store.cases.c.version + 1))


def line_height_ratio(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => { const s = getComputedStyle(el);"
                                           " return parseFloat(s.lineHeight) / parseFloat(s.fontSize); }")


def shot(page, name: str) -> None:
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / f"console-shift-{name}.png"), full_page=False)


def test_a_shift_in_the_browser(db_url):
    with serve_console(db_url) as console, chromium() as browser:
        engine = console.engine
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

        # the agent works on a case; an urgent case arrives: the title counts it, a notification is shown
        mine = add_case(engine, priority="normal", status="claimed", assigned_to=agent, created_at=now(),
                        language="ur", summary="مدد چاہیے",
                        transcript=[{"direction": "in", "kind": "text", "text": "کچھ مدد چاہیے، نمبر 1122 پر فون کیا"}])
        page.goto(f"{console.url}/cases/{mine}")
        page.wait_for_function("() => document.title.indexOf('Case #') === 0")
        page.wait_for_timeout(1500)  # the first pulse sets what was already there
        urgent = add_case(engine, priority="urgent", created_at=now())
        page.wait_for_function("() => document.title.indexOf('(1) Case #') === 0")
        page.wait_for_function("() => window.__notifications.length === 1")
        note = page.evaluate("window.__notifications[0]")
        assert note == {"title": "New URGENT case", "body": f"#{urgent}"}
        assert page.locator(f'#pulse-banner a[href="/cases/{urgent}"]').is_visible()

        # Urdu text: line height at least 2 in the bubble and in the reply box (English interface)
        assert line_height_ratio(page, "#transcript .body[lang=ur]") >= 2
        assert line_height_ratio(page, "#reply-text") >= 2
        shot(page, "case-en-desktop")

        # a reply: Ctrl+Enter sends, the page comes back, the reply shows pending, then sent
        page.fill("#reply-text", "ہم یہاں ہیں۔ کیا آپ محفوظ ہیں؟")
        page.press("#reply-text", "Control+Enter")
        page.wait_for_url(f"{console.url}/cases/{mine}?done=replied")
        page.wait_for_selector('#transcript [data-delivery="pending"]')
        with engine.begin() as conn:
            conn.execute(update(store.outbox).where(store.outbox.c.case_id == mine).values(status="sent"))
        page.wait_for_selector('#transcript [data-delivery="sent"]')
        assert page.input_value("#reply-text") == ""

        # a draft survives navigation (with a warning before leaving)
        page.fill("#reply-text", "draft in progress")
        page.goto(console.url + "/queue?view=mine")
        assert any(kind == "beforeunload" for kind, _ in page.dialogs)
        page.goto(f"{console.url}/cases/{mine}")
        assert page.input_value("#reply-text") == "draft in progress"
        page.fill("#reply-text", "")
        page.dispatch_event("#reply-text", "input")

        # the user answers: the marker appears in Mine without a reload
        page.goto(console.url + "/queue?view=mine")
        assert page.locator(f'tr[data-case="{mine}"] [data-marker="new-message"]').count() == 0
        user_answers(engine, mine, "جی، میں محفوظ ہوں")
        page.wait_for_selector(f'tr[data-case="{mine}"] [data-marker="new-message"]')
        assert page.locator(f'[data-waiting-since="{mine}"]').is_visible()

        # new rows wait while the pointer is over the queue (no Claim button moves under it), then show highlighted
        page.goto(console.url + "/queue?view=unassigned")
        page.wait_for_selector(f'tr[data-case="{urgent}"]')
        page.hover(f'tr[data-case="{urgent}"] button')
        second = add_case(engine, priority="urgent", created_at=now())
        page.wait_for_selector("table.queue.has-pending")
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
