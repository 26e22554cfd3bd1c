"""Sending to Telegram: an outbox row (the dispatcher's `deliver`) or a short notice, through
python-telegram-bot's Bot (its HTTPXRequest, ExtBot's AIORateLimiter and its error mapping).

sendMessage goes through `Bot.do_api_request`, python-telegram-bot's public call for any Bot API method:
unlike `Bot.send_message` it does not turn Telegram's answer into a Message object, which nothing here
reads and which costs ~1.4 ms of CPU per message (Message.de_json of a reply with buttons, measured with
python-telegram-bot 22.8). For a method the Bot also wraps, do_api_request warns that the wrapper
exists; that one advisory warning is silenced here, for sendMessage only.
"""
from __future__ import annotations

import asyncio
import logging
import warnings

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBUserWarning

from ..dialogue.replies import Button, Reply
from ..hotline.dispatch import PermanentFailure
from ..storage.outbox import OutboxItem
from ..text import valid_utf8_tree
from .render import messages, to_html

log = logging.getLogger("safesafar.telegram")

warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def send_message(bot, chat_id: int, html_text: str, markup) -> None:
    """sendMessage in HTML without a link preview; Telegram's answer is not parsed into a Message."""
    await bot.do_api_request("sendMessage", {"chat_id": chat_id, "text": html_text, "parse_mode": ParseMode.HTML,
                                             "reply_markup": markup, "link_preview_options": _NO_PREVIEW})


class TelegramSender:
    def __init__(self, bot, send_retries: int = 5, backoff: float = 0.5):
        """bot: python-telegram-bot's (Ext)Bot, the Application's own."""
        self.bot = bot
        self.send_retries, self.backoff = send_retries, backoff

    async def deliver(self, item: OutboxItem) -> None:
        """One outbox row to Telegram: a dialogue reply (plain text, rendered and split here), or a staff
        alert or a hotline reply (HTML already). Raises PermanentFailure when it can never arrive."""
        if not item.chat_id or not item.chat_id.lstrip("-").isdigit():
            raise PermanentFailure("no Telegram chat")
        payload = valid_utf8_tree(item.payload)  # a console reply form's text included
        if item.kind == "reply":
            reply = Reply(payload.get("text", ""),
                          tuple(tuple(Button(label, data) for label, data in row) for row in payload.get("buttons", [])),
                          rtl=bool(payload.get("rtl")))
            parts = messages(reply)
        else:
            parts = [(payload.get("text", ""), None)]
        for html_text, markup in parts:
            await self.send(int(item.chat_id), html_text, markup, raise_forbidden=True)

    async def send_text(self, chat_id: int, text: str) -> None:
        await self.send(chat_id, to_html(text), None)

    async def send(self, chat_id: int, html_text: str, markup, raise_forbidden: bool = False) -> None:
        """sendMessage, retried with backoff on network errors and timeouts (a 429 is retried by the
        rate limiter). A user who blocked the bot is not retried."""
        delay = self.backoff
        for attempt in range(self.send_retries + 1):
            try:
                await send_message(self.bot, chat_id, html_text, markup)
                return
            except Forbidden as exc:
                log.info("chat %s blocked the bot", chat_id)
                if raise_forbidden:
                    raise PermanentFailure("the user blocked the bot") from exc
                return
            except BadRequest as exc:
                if raise_forbidden and "chat not found" in str(exc).lower():
                    raise PermanentFailure("chat not found") from exc
                raise
            except RetryAfter as exc:  # the rate limiter gave up: wait as told, once more
                if attempt == self.send_retries:
                    raise
                await asyncio.sleep(float(getattr(exc, "retry_after", 1)))
            except (TimedOut, NetworkError):
                if attempt == self.send_retries:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 8)
