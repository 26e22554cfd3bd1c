"""The Telegram front end: python-telegram-bot handlers around the dialogue core.

Every handler does one job: turn an update into a dialogue call, send the turn's replies. Ordering per
user is kept with a lock per user while updates of different users run concurrently. Telegram's 429
`retry_after` is honoured by python-telegram-bot's AIORateLimiter; network errors are retried with
backoff; an update delivered twice (same update_id) is processed once.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import time

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import (AIORateLimiter, Application, ApplicationHandlerStop, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters)

from ..dialogue.engine import Dialogue, Turn
from ..i18n import I18n
from .render import messages, to_html

log = logging.getLogger("safesafar.telegram")

def N_(message: str) -> str:
    """Marks a string for the catalogs; it is translated where it is used."""
    return message


COMMANDS = ("start", "help", "language", "check", "report", "hotline", "privacy", "delete_me")
COMMAND_HELP = {
    "start": N_("Start, choose your language"),
    "help": N_("What this assistant can do"),
    "language": N_("Change the language"),
    "check": N_("Check a study or job offer"),
    "report": N_("Report an agent or a smuggler"),
    "hotline": N_("Hotline and emergency numbers"),
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


class SeenUpdates:
    """The last N update ids: a retried delivery of the same update is dropped."""

    def __init__(self, size: int = 20000):
        self.size, self.ids, self.set = size, collections.deque(), set()

    def first_time(self, update_id: int) -> bool:
        if update_id in self.set:
            return False
        self.ids.append(update_id)
        self.set.add(update_id)
        if len(self.ids) > self.size:
            self.set.discard(self.ids.popleft())
        return True


class TelegramFrontEnd:
    def __init__(self, dialogue: Dialogue, i18n: I18n, rate_limit: UserRateLimit | None = None,
                 send_retries: int = 5, backoff: float = 0.5):
        self.dialogue, self.i18n = dialogue, i18n
        self.rate_limit = rate_limit or UserRateLimit()
        self.seen = SeenUpdates()
        self.send_retries, self.backoff = send_retries, backoff
        self.locks: dict[int, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self.bot_username: str | None = None

    # -- building ----------------------------------------------------------------------------------
    def build(self, token: str, base_url: str | None = None, timeout: float = 15.0,
              overall_rate: float = 30.0) -> Application:
        """overall_rate: messages per second to all chats together. Telegram allows about 30 (its
        broadcast limit); a local Bot API server in a benchmark takes more."""
        limiter = AIORateLimiter(overall_max_rate=overall_rate, overall_time_period=1, max_retries=5)
        builder = (Application.builder().token(token).rate_limiter(limiter)
                   .concurrent_updates(64).connection_pool_size(64).connect_timeout(timeout).read_timeout(timeout).write_timeout(timeout)
                   .pool_timeout(timeout).post_init(self.on_startup))
        if base_url:
            builder = builder.base_url(base_url.rstrip("/") + ("" if base_url.rstrip("/").endswith("/bot") else "/bot"))
            builder = builder.base_file_url(base_url.rstrip("/").removesuffix("/bot") + "/file/bot")
        app = builder.build()
        self.install(app)
        return app

    def install(self, app: Application) -> None:
        app.add_handler(TypeHandler(Update, self._dedupe), group=-2)
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
        app.add_error_handler(self.on_error)

    async def on_startup(self, app: Application) -> None:
        """Learns the bot's username (for mentions in groups) and registers the command menus."""
        try:
            me = await app.bot.get_me()
            self.bot_username = me.username
        except TelegramError as exc:
            log.warning("getMe failed: %s", type(exc).__name__)
        await self.register_commands(app)

    async def register_commands(self, app: Application) -> None:
        """The command menu in each language Telegram knows; a server without setMyCommands is fine."""
        for language, code in [(None, None)] + list(TELEGRAM_LANGUAGES.items()):
            lang = language or "en"
            commands = [BotCommand(name, self.i18n.tr(lang, COMMAND_HELP[name])) for name in COMMANDS]
            try:
                await app.bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=code)
            except TelegramError as exc:
                log.warning("setMyCommands (%s) not accepted: %s", code or "default", type(exc).__name__)
                return

    # -- guards ------------------------------------------------------------------------------------
    async def _dedupe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.seen.first_time(update.update_id):
            log.info("update %s delivered again: dropped", update.update_id)
            raise ApplicationHandlerStop

    async def _throttle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        chat = update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or update.callback_query is not None:
            return  # button presses are cheap and come fast in the offer check: only messages count
        if not self.rate_limit.allow(user.id):
            if self.rate_limit.should_warn(user.id):
                lang = self._language(update)
                await self._send_text(context, chat.id, self.i18n.tr(
                    lang, "You are sending messages very fast. Please wait a minute, then try again."))
            raise ApplicationHandlerStop

    # -- handlers ----------------------------------------------------------------------------------
    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user_key = self._key(update)
        async with self.locks[update.effective_user.id]:
            name = message.text.split()[0][1:].split("@")[0].lower()
            if name == "start":
                code = (context.args[0] if context.args else "").lower()
                known = {c.lower(): c for c in self.dialogue.content_store.get().languages}
                if code.replace("_", "-") in known:  # deep link t.me/<bot>?start=ur
                    await self.dialogue.handle_button(user_key, f"lang:{known[code.replace('_', '-')]}")
                elif self.dialogue.states.get(user_key).language is None:
                    telegram_lang = (update.effective_user.language_code or "")[:2]
                    if telegram_lang in ("ur",):
                        state = self.dialogue.states.get(user_key)
                        state.language = "ur"
                        self.dialogue.states.save(state)
            turn = await self.dialogue.handle_text(user_key, f"/{name}")
            await self._send_turn(context, message.chat_id, turn)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self.locks[update.effective_user.id]:
            turn = await self.dialogue.handle_text(self._key(update), update.effective_message.text)
            await self._send_turn(context, update.effective_chat.id, turn)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        async with self.locks[update.effective_user.id]:
            turn = await self.dialogue.handle_text(self._key(update), message.text)
            await self._send_turn(context, message.chat_id, turn)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        try:
            await query.answer()
        except (BadRequest, TimedOut, NetworkError) as exc:  # an old query; the press still counts
            log.info("answerCallbackQuery failed: %s", type(exc).__name__)
        if query.message is None or not query.data:
            return
        async with self.locks[update.effective_user.id]:
            turn = await self.dialogue.handle_button(self._key(update), query.data)
            await self._send_turn(context, query.message.chat.id, turn)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        lang = self._language(update)
        text = self.i18n.tr(lang, "I can read only text messages, so I cannot use this {kind}. Please type your "
                                  "question in a few words. If someone is in danger now, write what is happening.",
                            kind=self.i18n.tr(lang, _media_kind(message)))
        await self._send_text(context, message.chat_id, text)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        # an edit of an earlier message: answering it again would repeat or reorder the conversation
        log.info("edited message ignored")

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        mentioned = bool(self.bot_username) and f"@{self.bot_username}".lower() in message.text.lower()
        if not (message.text.startswith("/") or mentioned):
            return  # ordinary group chatter is not for the bot
        lang = self._language(update)
        await self._send_text(context, message.chat_id, self.i18n.tr(
            lang, "I answer questions in a private chat, where what you write stays between you and the assistant. "
                  "Open a chat with me and press Start."))

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # no message text or personal data in the log: the error's type and the update id only
        update_id = getattr(update, "update_id", None)
        log.error("error while handling update %s: %s", update_id, type(context.error).__name__)
        if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
            lang = self._language(update)
            try:
                rescue = self.dialogue.content_store.get().fact("rescue_1122_gb", lang)
                await self._send_text(context, update.effective_chat.id, self.i18n.tr(
                    lang, "Sorry, something went wrong on our side. Please try again in a moment. "
                          "If someone is in danger now, call {rescue}.", rescue=rescue))
            except TelegramError:
                pass

    # -- sending -----------------------------------------------------------------------------------
    async def _send_turn(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, turn: Turn) -> None:
        for reply in turn.replies:
            for text, markup in messages(reply):
                await self._send(context, chat_id, text, markup)

    async def _send_text(self, context, chat_id: int, text: str) -> None:
        await self._send(context, chat_id, to_html(text), None)

    async def _send(self, context, chat_id: int, html_text: str, markup) -> None:
        """sendMessage, retried with backoff on network errors and timeouts (a 429 is retried by the
        rate limiter). A user who blocked the bot is not retried."""
        delay = self.backoff
        for attempt in range(self.send_retries + 1):
            try:
                await context.bot.send_message(chat_id, html_text, parse_mode=ParseMode.HTML, reply_markup=markup,
                                               disable_web_page_preview=True)
                return
            except Forbidden:
                log.info("chat %s blocked the bot", chat_id)
                return
            except RetryAfter as exc:  # the rate limiter gave up: wait as told, once more
                if attempt == self.send_retries:
                    raise
                await asyncio.sleep(float(getattr(exc, "retry_after", 1)))
            except (TimedOut, NetworkError):
                if attempt == self.send_retries:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8)

    # -- helpers -----------------------------------------------------------------------------------
    @staticmethod
    def _key(update: Update) -> str:
        return f"tg:{update.effective_user.id}"

    def _language(self, update: Update) -> str:
        user = update.effective_user
        if user is not None:
            state = self.dialogue.states.get(f"tg:{user.id}")
            if state.language:
                return state.language
            if (user.language_code or "").startswith("ur"):
                return "ur"
        return "en"


MEDIA_KINDS = (("voice", N_("voice message")), ("audio", N_("audio file")), ("video_note", N_("video message")),
               ("video", N_("video")), ("photo", N_("photo")), ("sticker", N_("sticker")), ("animation", N_("GIF")),
               ("document", N_("document")), ("location", N_("location")), ("venue", N_("location")),
               ("contact", N_("contact")), ("poll", N_("poll")))


def _media_kind(message) -> str:
    for attribute, kind in MEDIA_KINDS:
        if getattr(message, attribute, None):
            return kind
    return N_("message")
