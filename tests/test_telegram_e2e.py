"""The Telegram front end end to end: python-telegram-bot's real HTTP stack against a Bot API server on
127.0.0.1 (tests/botapi_server.py), with the real NLU. The tests read what the bot really sent."""
import asyncio
import contextlib
import re
import time

import pytest

from bot.config import ROOT, Settings
from bot.dialogue.content import ContentStore
from bot.dialogue.engine import Dialogue
from bot.hotline.service import ConversationService
from bot.i18n import I18n
from bot.storage.db import make_engine
from bot.storage.hotline_store import HotlineStore, Inbound
from bot.services import TelegramBot, build_telegram
from tests.botapi_server import BotAPIServer, Fault, button_update, media_update, text_update

pytestmark = pytest.mark.rasa
URDU = re.compile(r"[\u0600-\u06ff]")


@contextlib.asynccontextmanager
async def running(bot: TelegramBot):
    front, app = bot.front, bot.app
    async with app:
        await front.on_startup(app)  # what run_polling does through post_init
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await front.on_shutdown(app)


def make_bot(understander, db_url: str, server: BotAPIServer, staff_chat_id: str = "", **settings) -> TelegramBot:
    """The front end as `safesafar run` builds it (services.build_telegram), on a conversation service with
    the test's NLU over a real database, against the test's Bot API server."""
    engine = make_engine(db_url)
    i18n = I18n()
    dialogue = Dialogue(understander, ContentStore(ROOT / "content"), i18n)
    store = HotlineStore(engine, staff_chat_id=staff_chat_id, console_url="http://console.test")
    config = Settings(telegram_token="123456:TEST-TOKEN", telegram_api_base_url=server.base_url,
                      staff_chat_id=staff_chat_id, **settings)
    return build_telegram(config, ConversationService(dialogue, store, i18n), timeout=5.0)


def drive(understander, db_url, body, unsupported: tuple[str, ...] = (), **settings) -> None:
    """Runs `await body(server, front)` with the bot polling a fresh Bot API server."""
    async def scenario():
        with BotAPIServer(unsupported=unsupported) as server:
            bot = make_bot(understander, db_url, server, **settings)
            try:
                async with running(bot):
                    await body(server, bot.front)
            finally:
                bot.checkpointer.stop()
                bot.front.store.engine.dispose()
    asyncio.run(scenario())


async def exchange(server: BotAPIServer, chat_id: int, update: dict | None, quiet: float = 0.6, timeout: float = 40):
    """Push an update, wait until the bot has answered and gone quiet; return the new messages."""
    before = len(server.state.messages_to(chat_id))
    if update is not None:
        server.state.push(update)

    def settled():
        sent = server.state.messages_to(chat_id)
        if len(sent) > before and time.monotonic() - sent[-1].at >= quiet:
            return sent[before:]
        return None

    return await asyncio.to_thread(server.state.wait_for, settled, timeout)


def buttons(message) -> list[tuple[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b["callback_data"]) for row in rows for b in row]


def find_button(messages, prefix):
    for message in reversed(messages):
        for label, data in buttons(message):
            if data.startswith(prefix):
                return message, data
    raise AssertionError(f"no button {prefix} in {[buttons(m) for m in messages]}")


async def finish_check(server, uid, new):
    for _ in range(30):
        last = new[-1]
        answers = [d for _, d in buttons(last) if d.startswith("oc:no:")]
        if not answers:
            return new
        new = await exchange(server, uid, button_update(uid, answers[0], last))
    raise AssertionError("the check did not end")


def test_conversation_across_languages(understander, db_url):
    async def body(server, front):
        uid = 5001
        new = await exchange(server, uid, text_update(uid, "/start"))
        assert "Language" in new[0].text or find_button(new, "act:language")  # the app's English: welcome in it
        message, data = find_button(new, "act:language")
        new = await exchange(server, uid, button_update(uid, data, message))
        message, data = find_button(new, "lang:ur")
        assert any(d == "lang:ur-Latn" for _, d in buttons(message))
        new = await exchange(server, uid, button_update(uid, data, message))
        assert new[0].text.startswith("زبان اردو کر دی گئی ہے۔")  # one message: with the menu
        new = await exchange(server, uid, text_update(uid, "ایجنٹ کا لائسنس کیسے چیک کروں؟"))
        assert URDU.search(new[0].text) and "beoe.gov.pk" in new[0].text
        new = await exchange(server, uid, text_update(uid, "/check"))
        message, data = find_button(new, "oc:kind:job")
        new = await exchange(server, uid, button_update(uid, data, message))
        total = ContentStore(ROOT / "content").get().question_count("job")
        # numbers in Urdu text arrive bidi-isolated (LRI ... PDI), so that they are drawn in their order
        assert new[-1].text.startswith(f"سوال \u20661\u2069 از \u2066{total}\u2069")
        new = await finish_check(server, uid, new)
        assert URDU.search(new[-1].text) and "\u2066111-247-786\u2069" in new[-1].text
        new = await exchange(server, uid, text_update(uid, "/language"))
        message, data = find_button(new, "lang:ur-Latn")
        new = await exchange(server, uid, button_update(uid, data, message))
        assert new[0].text.startswith("Zabaan Roman Urdu kar di gayi hai.")
        new = await exchange(server, uid, text_update(uid, "dunki route kya hota hai"))
        assert not URDU.search(new[0].text)
        calls = {c.method for c in server.state.calls}
        assert {"getMe", "setMyCommands", "getUpdates", "sendMessage", "answerCallbackQuery"} <= calls
        langs = {c.params.get("language_code") for c in server.state.calls if c.method == "setMyCommands"}
        assert {"en", "ur"} <= langs

    drive(understander, db_url, body)


def test_faults_429_500_slow_and_dropped_connections(understander, db_url):
    async def body(server, front):
        front.sender.backoff = 0.1
        uid = 5002
        server.state.fault("sendMessage", Fault(status=429, retry_after=1), Fault(status=500),
                           Fault(delay=1.5), Fault(drop=True))
        first = await exchange(server, uid, text_update(uid, "what is human trafficking"), quiet=1.0)
        second = await exchange(server, uid, text_update(uid, "how do i verify an agent"), quiet=1.0)
        texts = [m.text for m in server.state.messages_to(uid)]
        assert len(texts) == len(set(texts)), "a reply was sent twice"
        assert "trafficking" in first[0].text.lower() and "licence" in second[0].text.lower()
        failed = [c for c in server.state.calls if c.method == "sendMessage" and not c.ok]
        assert len(failed) == 3  # 429, 500 and the dropped one were retried; the slow one just waited

    drive(understander, db_url, body)


def test_same_update_twice_is_processed_once(understander, db_url):
    async def body(server, front):
        uid = 5003
        update = text_update(uid, "what is migrant smuggling")
        update["update_id"] = 9_000_001
        server.state.push(dict(update))
        new = await exchange(server, uid, dict(update))
        assert len(new) == 1
        # the inbox keeps the update as the server sent it (not python-telegram-bot's re-serialisation,
        # which adds defaults such as "channel_chat_created": false)
        from sqlalchemy import select

        from bot.storage.db import InboxRow
        with front.store.engine.connect() as conn:
            stored = conn.execute(select(InboxRow.payload).where(InboxRow.update_id == 9_000_001)).scalar_one()
        assert stored == update

    drive(understander, db_url, body)


def test_media_edits_groups_and_limits(understander, db_url):
    async def body(server, front):
        uid = 5004
        for kind in ("voice", "photo", "document", "sticker", "location", "contact"):
            front.rate_limit.buckets.clear()
            new = await exchange(server, uid, media_update(uid, kind), quiet=0.3)
            assert len(new) == 1 and "only text" in new[0].text, kind
        front.rate_limit.buckets.clear()
        edited = text_update(uid, "edited text")
        edited["edited_message"] = edited.pop("message")
        server.state.push(edited)
        group = text_update(uid, "hello everyone", chat_type="group")
        server.state.push(group)
        new = await exchange(server, -1000 - uid, text_update(uid, "/help@safesafar_test_bot", chat_type="group"))
        assert len(new) == 1 and "private chat" in new[0].text
        assert server.state.messages_to(uid) and all("edited" not in m.text for m in server.state.messages_to(uid))
        before = len(server.state.messages_to(uid))
        for i in range(8):
            server.state.push(text_update(uid, f"hi number {i}"))
        await asyncio.sleep(3)
        sent = server.state.messages_to(uid)[before:]
        slow = [m for m in sent if "very fast" in m.text]
        assert len(slow) == 1 and len(sent) < 8 + 1

    # a Bot API server without setMyCommands (an emulator may lack it): logged, not fatal
    drive(understander, db_url, body, unsupported=("setMyCommands",), user_rate_per_minute=6, user_burst=3)


def test_webhook_checks_the_secret_token(understander, db_url):
    import httpx

    from tests.conftest import free_port

    async def scenario():
        with BotAPIServer() as server:
            bot = make_bot(understander, db_url, server)
            front, app = bot.front, bot.app
            port = free_port()
            async with app:
                await app.start()
                await app.updater.start_webhook(listen="127.0.0.1", port=port, url_path="telegram",
                                                webhook_url=f"http://127.0.0.1:{port}/telegram", secret_token="s3cret")
                try:
                    uid = 5005
                    update = text_update(uid, "what is human trafficking")
                    update["update_id"] = 42
                    async with httpx.AsyncClient() as client:
                        wrong = await client.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                                  headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
                        missing = await client.post(f"http://127.0.0.1:{port}/telegram", json=update)
                        assert wrong.status_code == 403 and missing.status_code == 403
                        assert server.state.messages_to(uid) == []
                        right = await client.post(f"http://127.0.0.1:{port}/telegram", json=update,
                                                  headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
                        assert right.status_code == 200
                    new = await exchange(server, uid, None)
                    assert "trafficking" in new[0].text.lower()
                    assert any(c.method == "setWebhook" and c.params.get("secret_token") == "s3cret"
                               for c in server.state.calls)
                finally:
                    await app.updater.stop()
                    await app.stop()
                    bot.checkpointer.stop()
                    front.store.engine.dispose()
    asyncio.run(scenario())


def test_deep_link_start_picks_the_language(understander, db_url):
    async def body(server, front):
        uid = 5006
        new = await exchange(server, uid, text_update(uid, "/start ur"))
        assert URDU.search(new[0].text), new[0].text
        assert front.store.load(Inbound("tg", str(uid), None, "text")).state["language_chosen"]
        new = await exchange(server, uid, text_update(uid, "what is human trafficking"))
        assert URDU.search(new[0].text), "a language picked by the deep link stays"

    drive(understander, db_url, body)


def test_urgent_case_alert_retried_until_delivered_and_staff_commands_only_from_staff(understander, db_url):
    """The staff alert and the user's acknowledgement survive a Bot API server that fails for a while:
    the outbox retries with backoff until they arrive, once each. In the staff group, commands are
    answered only for registered staff."""
    from sqlalchemy.orm import Session

    from bot.storage.db import CaseRow, OutboxRow, StaffRow

    staff_chat = -100_4242

    async def body(server, front):
        front.sender.send_retries = 0  # every failure goes back to the outbox (its backoff: 1 s, 2 s, ...)
        uid = 5007
        server.state.fault("sendMessage", Fault(status=500), Fault(status=500), Fault(status=502))
        server.state.push(text_update(uid, "they locked my brother in a room in Tripoli, please help"))
        alerts = await asyncio.to_thread(server.state.wait_for, lambda: server.state.messages_to(staff_chat), 30)
        await asyncio.sleep(2.5)  # a second copy would arrive by now
        assert len(server.state.messages_to(staff_chat)) == 1 and "URGENT" in alerts[0].text
        acks = [m for m in server.state.messages_to(uid) if "urgent case" in m.text]
        assert len(acks) == 1
        assert len([c for c in server.state.calls if c.method == "sendMessage" and not c.ok]) == 3
        with Session(front.store.engine) as session:
            assert len(session.query(CaseRow).all()) == 1
            assert {r.status for r in session.query(OutboxRow).all()} == {"sent"}
            assert max(r.attempts for r in session.query(OutboxRow).all()) >= 2
            session.add(StaffRow(username="amina", password_hash="x", role="agent", telegram_id="777"))
            session.commit()
        refused = await exchange(server, staff_chat, text_update(uid, "/queue", chat_type="group",
                                                                 chat={"id": staff_chat, "type": "supergroup"}))
        assert "Only registered hotline staff" in refused[-1].text
        answer = await exchange(server, staff_chat, text_update(777, "/queue", chat_type="group",
                                                                chat={"id": staff_chat, "type": "supergroup"}))
        assert "urgent 1" in answer[-1].text and "brother" not in answer[-1].text

    drive(understander, db_url, body, staff_chat_id=str(staff_chat))
