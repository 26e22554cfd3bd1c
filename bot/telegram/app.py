"""The Telegram front end: python-telegram-bot handlers around the conversation service.

Every handler does one job: turn an update into a service call, deliver what the service committed to
the outbox. A user's updates are handled one at a time and in order, across processes, by the
conversation service (hotline/service.py; the inbox records whose conversation each update is), while
updates of different users run concurrently. Every update is stored in the inbox before Telegram is
told it arrived (DurableQueue), so an update is processed once, and one the process did not finish is
processed after a restart. Telegram's
429 `retry_after` is honoured by python-telegram-bot's AIORateLimiter; network errors are retried with
backoff (by the send loop, then by the outbox).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut
from telegram.ext import (Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes,
                          MessageHandler, TypeHandler, filters)

from ..hotline.dispatch import Dispatcher, crash_point
from ..hotline.service import MEDIA_KINDS, ConversationService
from ..i18n import I18n
from ..storage.executor import run_db
from ..storage.hotline_store import HotlineStore, Inbound, Outbox
from ..text import isolate_ltr, valid_utf8, valid_utf8_tree
from .sender import TelegramSender

log = logging.getLogger("safesafar.telegram")

def N_(message: str) -> str:
    """Marks a string for the catalogs; it is translated where it is used."""
    return message


COMMANDS = ("start", "help", "language", "check", "agent", "report", "hotline", "privacy", "delete_me")
COMMAND_HELP = {
    "start": N_("Start, choose your language"),
    "help": N_("What this assistant can do"),
    "language": N_("Change the language"),
    "check": N_("Check a study or job offer"),
    "agent": N_("Check an agent's licence"),
    "report": N_("Report an agent or a smuggler"),
    "hotline": N_("Help and emergency numbers"),
    "privacy": N_("What happens to your data"),
    "delete_me": N_("Erase what the bot keeps about you"),
}
# Telegram's language codes for which the command list is registered in that language
TELEGRAM_LANGUAGES = {"en": "en", "ur": "ur"}


class UserRateLimit:
    """A token bucket per user: `burst` messages at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float = 30, burst: int = 15, clock=time.monotonic):
        self.rate, self.burst, self.clock = per_minute / 60.0, burst, clock
        self.buckets: dict[int, tuple[float, float]] = {}
        self.warned: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        now = self.clock()
        tokens, last = self.buckets.get(user_id, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[user_id] = (tokens - 1, now)
            return True
        self.buckets[user_id] = (tokens, now)
        return False

    def should_warn(self, user_id: int) -> bool:
        """One friendly warning per user per minute, not one per dropped message."""
        now = self.clock()
        if now - self.warned.get(user_id, -1e9) >= 60:
            self.warned[user_id] = now
            return True
        return False


SOURCE = "tg"


class DurableQueue(asyncio.Queue):
    """The update queue between python-telegram-bot's Updater (polling or webhook) and the Application.
    `put` stores the update in the inbox first: the Updater confirms an update to Telegram (the next
    getUpdates offset, or the webhook's 200) only after `put` returned. A duplicate is not queued."""

    def __init__(self, store: HotlineStore, answer_of: Callable[[int], dict[int, dict] | None] | None = None):
        super().__init__()
        self.store = store
        # the updates of the getUpdates answer that brought an update, as received (PollingRequest)
        self.answer_of = answer_of
        self._fresh: dict[int, bool] = {}  # stored with an earlier update of the same answer: was it new?

    async def put(self, item) -> None:
        if isinstance(item, Update):
            fresh = self._fresh.pop(item.update_id, None)
            if fresh is None:
                answer = self.answer_of(item.update_id) if self.answer_of is not None else None
                if answer:  # the whole answer in one transaction
                    new = await run_db(self.store.engine, self.store.receive_many, SOURCE, answer,
                                       {update_id: inbox_user_key(p) for update_id, p in answer.items()})
                    self._fresh = {update_id: update_id in new for update_id in answer}
                    fresh = self._fresh.pop(item.update_id)
                else:  # a webhook's update: its strings cleaned as the polling answer's are
                    payload = valid_utf8_tree(item.to_dict())
                    fresh = await run_db(self.store.engine, self.store.receive, SOURCE, item.update_id,
                                         payload, inbox_user_key(payload))
            if not fresh:
                log.info("update %s delivered again: dropped", item.update_id)
                return
            crash_point("received")
        await super().put(item)

    async def replay(self, updates: list[Update]) -> None:
        for update in updates:
            await super().put(update)


def inbox_user_key(payload: dict) -> str | None:
    """The user (Inbound.user_key) of an update of a private conversation (a message or a button press),
    stored with the update in the inbox: the service keeps each user's turns in update order by it."""
    message = payload.get("message")
    if message and (message.get("chat") or {}).get("type") == ChatType.PRIVATE and message.get("from"):
        return f"{SOURCE}:{message['from']['id']}"
    query = payload.get("callback_query")
    if query and query.get("from"):
        return f"{SOURCE}:{query['from']['id']}"
    return None


class TelegramFrontEnd:
    def __init__(self, service: ConversationService, i18n: I18n, *, sender: TelegramSender, outbox: Outbox,
                 dispatcher: Dispatcher, rate_limit: UserRateLimit | None = None, staff_chat_id: str = "",
                 outbox_loop: bool = True):
        """The parts come from the wiring (services.build_telegram): the sender on python-telegram-bot's
        Bot, this worker's outbox and the dispatcher that delivers it through the sender. `install`
        puts the handlers on the Application."""
        self.service, self.i18n = service, i18n
        self.dialogue = service.dialogue
        self.store: HotlineStore = service.store
        self.sender, self.outbox, self.dispatcher = sender, outbox, dispatcher
        self.outbox_loop = outbox_loop
        self.rate_limit = rate_limit or UserRateLimit()
        self.bot_username: str | None = None
        self.staff_chat_id = str(staff_chat_id or "")
        self.app: Application | None = None
        self._tasks: list[asyncio.Task] = []
        self._committed: set[int] = set()  # updates whose turn the service stored (inbox marked there)
        self._failed: set[int] = set()  # updates whose handler raised: left for a retry after a restart
        # user id -> {update id: done} of the updates of the user in _handle: replies go out in update order
        self._delivering: dict[int, dict[int, asyncio.Future]] = {}

    # -- building ----------------------------------------------------------------------------------
    def install(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self._throttle), group=-1)
        private = filters.ChatType.PRIVATE
        for name in COMMANDS:
            app.add_handler(CommandHandler(name, self.on_command, filters=private))
        app.add_handler(CallbackQueryHandler(self.on_button))
        app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED,
                                       self.on_text))
        app.add_handler(MessageHandler(private & filters.COMMAND & ~filters.UpdateType.EDITED, self.on_unknown_command))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.UpdateType.EDITED, self.on_media))
        app.add_handler(MessageHandler(filters.ChatType.GROUPS & ~filters.UpdateType.EDITED, self.on_group))
        # channel posts and everything else: no handler, deliberately ignored
        app.add_handler(TypeHandler(Update, self._mark_done), group=1)
        app.add_error_handler(self.on_error)
        self.app = app

    async def on_startup(self, app: Application) -> None:
        """Learns the bot's username (for mentions in groups), registers the command menus, queues the
        updates a previous process stored but did not finish, and starts the outbox loop."""
        try:
            me = await app.bot.get_me()
            self.bot_username = me.username
        except TelegramError as exc:
            log.warning("getMe failed: %s", type(exc).__name__)
        await self.register_commands(app)
        payloads = await run_db(self.store.engine, self.store.unfinished, SOURCE)
        if payloads:
            log.info("%d updates left unfinished by the previous run: processing them now", len(payloads))
            queue = app.update_queue
            updates = [Update.de_json(p, app.bot) for p in payloads]
            if isinstance(queue, DurableQueue):
                await queue.replay(updates)
            else:
                for update in updates:
                    await queue.put(update)
        if self.outbox_loop:
            self._tasks.append(asyncio.create_task(self.dispatcher.run(), name="outbox"))

    async def on_shutdown(self, app: Application) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self._tasks.clear()

    async def register_commands(self, app: Application) -> None:
        """The command menu in each language Telegram knows; a server without setMyCommands is fine."""
        for language, code in [(None, None)] + list(TELEGRAM_LANGUAGES.items()):
            lang = language or "en"
            commands = [BotCommand(name, isolate_ltr(self.i18n.tr(lang, COMMAND_HELP[name]))) for name in COMMANDS]
            try:
                await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
            except TelegramError as exc:
                log.warning("setMyCommands (%s) not accepted: %s", code or "default", type(exc).__name__)
                return

    # -- guards ------------------------------------------------------------------------------------
    async def _mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """After the handlers: an update that did not go through the service (a group message, an edit,
        a channel post) is marked done too; one whose handler failed is not (it is retried at restart)."""
        if update.update_id in self._committed:
            self._committed.discard(update.update_id)
            return
        if update.update_id in self._failed:
            self._failed.discard(update.update_id)
            return
        await run_db(self.store.engine, self.store.mark_done, SOURCE, update.update_id)

    async def _throttle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or update.callback_query is not None:
            return  # button presses are cheap and come fast in the offer check: only messages count
        if not self.rate_limit.allow(user.id):
            if self.rate_limit.should_warn(user.id):
                lang = await self._language(update)
                await self.sender.send_text(chat.id, self.i18n.tr(
                    lang, "You are sending messages very fast. Please wait a minute, then try again."))
            await run_db(self.store.engine, self.store.mark_done, SOURCE, update.update_id)
            raise ApplicationHandlerStop

    # -- handlers ----------------------------------------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        name = message.text.split()[0][1:].split("@")[0].lower()
        force = None
        if name == "start":
            code = (context.args[0] if context.args else "").lower().replace("_", "-")
            known = {c.lower(): c for c in self.dialogue.content_store.get().languages}
            force = known.get(code)  # deep link t.me/<bot>?start=ur
        text = " ".join(message.text.split()[:8]) if name == "agent" else f"/{name}"  # /agent 0848/LHR
        await self._handle(update, "command", text, force_language=force)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._handle(update, "command", update.effective_message.text)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._handle(update, "text", update.effective_message.text)

    async def _handle(self, update: Update, kind: str, text: str, meta: dict | None = None,
                      force_language: str | None = None) -> None:
        """The one path of a user's update: the service commits the turn, then its outbox rows go out."""
        user = update.effective_user
        inbound = Inbound(channel=SOURCE, external_id=str(user.id), chat_id=str(update.effective_chat.id), kind=kind,
                          text=valid_utf8(text or ""), meta=valid_utf8_tree(meta or {}), source=SOURCE,
                          update_id=update.update_id,
                          names=tuple(n for n in (user.first_name, user.last_name, user.username) if n))
        code = (user.language_code or "").lower()  # the app's language: the welcome follows it when known
        telegram_lang = "ur" if code.startswith("ur") else "en" if code.startswith("en") else None
        pending = self._delivering.setdefault(user.id, {})
        done = pending[update.update_id] = asyncio.get_running_loop().create_future()
        try:
            handled = await self.service.handle(inbound, preferred_language=telegram_lang,
                                                force_language=force_language)
            self._committed.add(update.update_id)
            if handled.duplicate:
                return
            crash_point("committed")
            # the service stored the user's earlier updates first; their replies go out first too
            for update_id, earlier in list(pending.items()):
                if update_id < update.update_id:
                    await asyncio.shield(earlier)
            await self.dispatcher.deliver_now(handled.outbox)
        finally:
            done.set_result(None)
            if pending.get(update.update_id) is done:
                del pending[update.update_id]
            if not pending and self._delivering.get(user.id) is pending:
                del self._delivering[user.id]

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            await query.answer()
        except (BadRequest, TimedOut, NetworkError) as exc:  # an old query; the press still counts
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)
        if query.message is None or not query.data:
            return
        await self._handle(update, "button", query.data)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice, photos, documents...: the bot cannot read them; while a case is open they join it (the
        file id is kept so that staff can fetch the file through the bot)."""
        message = update.effective_message
        kind = _media_kind(message)
        meta = {"media": kind, "caption": (message.caption or "")[:1000]}
        file_id = _file_id(message)
        if file_id:
            meta["file_id"] = file_id
        await self._handle(update, "media", message.caption or "", meta=meta)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # an edit of an earlier message: answering it again would repeat or reorder the conversation
        log.info("edited message ignored")

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        if self.staff_chat_id and str(message.chat_id) == self.staff_chat_id:
            await self.on_staff_group(update, context)
            return
        mentioned = bool(self.bot_username) and f"@{self.bot_username}".lower() in message.text.lower()
        if not (message.text.startswith("/") or mentioned):
            return  # ordinary group chatter is not for the bot
        lang = await self._language(update)
        await self.sender.send_text(message.chat_id, self.i18n.tr(
            lang, "I answer questions in a private chat, where what you write stays between you and the assistant. "
                  "Open a chat with me and press Start."))

    async def on_staff_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Commands in the staff group, accepted only from staff whose Telegram id is registered:
        /queue (open cases by priority) and /case N (one case's summary and link)."""
        from ..hotline.staff_group import staff_command

        message = update.effective_message
        if not message.text.startswith("/"):
            return
        text = await run_db(self.store.engine, staff_command, self.store, str(update.effective_user.id), message.text)
        if text:
            await self.sender.send(message.chat_id, text, None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # no message text or personal data in the log: the error's type and the update id only
        update_id = getattr(update, "update_id", None)
        if update_id is not None:
            self._failed.add(update_id)
            try:  # kept for a retry at the next start; the user's next updates need not wait for it
                await run_db(self.store.engine, self.store.set_aside, SOURCE, update_id)
            except Exception as exc:  # noqa: BLE001 - the database may be what failed
                log.error("update %s not set aside: %s", update_id, type(exc).__name__)
        log.error("error while handling update %s: %s", update_id, type(context.error).__name__)
        if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            lang = await self._language(update)
            try:
                rescue = self.dialogue.content_store.get().fact("rescue_1122_gb", lang)
                await self.sender.send_text(update.effective_chat.id, self.i18n.tr(
                    lang, "Sorry, something went wrong on our side. Please try again in a moment. "
                          "If someone is in danger now, call {rescue}.", rescue=rescue))
            except TelegramError:
                pass

    # -- helpers -----------------------------------------------------------------------------------
    async def _language(self, update: Update) -> str:
        user = update.effective_user
        if user is not None:
            language = await run_db(self.store.engine, self.store.language_of, f"{SOURCE}:{user.id}")
            if language:
                return language
            if (user.language_code or "").startswith("ur"):
                return "ur"
        return "en"


def _media_kind(message) -> str:
    """The attribute name of the message's attachment (voice, photo, ...); 'message' if none is known."""
    for attribute in MEDIA_KINDS:
        if attribute != "message" and getattr(message, attribute, None):
            return attribute
    return "message"


def _file_id(message) -> str | None:
    for attribute in ("voice", "audio", "video_note", "video", "document", "animation", "sticker"):
        item = getattr(message, attribute, None)
        if item is not None and getattr(item, "file_id", None):
            return item.file_id
    if message.photo:
        return message.photo[-1].file_id
    return None
