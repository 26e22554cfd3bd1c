"""What the case rules send, as Telegram HTML (hotline.cases.CaseText): the staff group's alert and the
header of a staff reply in the user's language (from the bot's catalogs). Without python-telegram-bot,
so that the console (which writes staff replies to the outbox) can use it too."""
from __future__ import annotations

import html

from ..i18n import tr
from ..text import isolate_ltr


def alert_html(case_id: int, priority: str, summary_line: str, console_url: str, raised: bool = False) -> str:
    icon = {"urgent": "🚨", "high": "⚠️"}.get(priority, "ℹ️")
    head = f"{icon} <b>{priority.upper()}</b> case #{case_id}" + (" (priority raised)" if raised else "")
    link = f'{console_url.rstrip("/")}/cases/{case_id}'
    return f'{head}\n{html.escape(summary_line, quote=False)}\n<a href="{html.escape(link)}">Open in the console</a>'


def hotline_text(language: str | None, reply: str) -> str:
    """The Telegram HTML the user receives: a bold header in the user's language, then the reply. Numbers,
    commands and Latin words in an Urdu reply are bidi-isolated in the text nodes (the stored message
    stays as the staff member wrote it)."""
    header = tr(language or "en", "SafeSafar team")  # the SafeSafar team, never "the hotline" (content/glossary.yml)
    return f"<b>{html.escape(isolate_ltr(header))}</b>\n{html.escape(isolate_ltr(reply), quote=False)}"


class TelegramCaseText:
    def __init__(self, console_url: str = "http://127.0.0.1:8080"):
        self.console_url = console_url

    def alert(self, case_id: int, priority: str, summary_line: str, raised: bool) -> dict:
        return {"text": alert_html(case_id, priority, summary_line, self.console_url, raised), "buttons": []}

    def staff_reply(self, language: str | None, text: str) -> dict:
        return {"text": hotline_text(language, text), "buttons": []}
