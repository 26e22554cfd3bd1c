"""Commands in the Telegram staff group. Only staff whose Telegram id is registered (`safesafar staff add
--telegram-id`) may use them; anyone else is told so. What they print has no personal data: case
numbers, priorities, languages and the one-line summaries. The queries are the case repository's
(storage/cases.py); the audit rows are the case rules' (hotline/cases.py)."""
from __future__ import annotations

import html

from ..storage.db import utcnow
from ..storage.hotline_store import HotlineStore
from .cases import audit


def staff_command(store: HotlineStore, telegram_id: str, text: str) -> str | None:
    parts = text.strip().split()
    name = parts[0][1:].split("@")[0].lower() if parts and parts[0].startswith("/") else ""
    if name not in ("queue", "case", "help", "start"):
        return None
    with store.cases() as repo:
        now = utcnow()
        staff = repo.staff_by_telegram(telegram_id)
        if staff is None:
            audit(repo, now, f"tg:{telegram_id}", "staff_group_refused", command=name)
            return "Only registered hotline staff can use commands here."
        audit(repo, now, staff, "staff_group_command", command=name)
        if name in ("help", "start"):
            return "/queue – open cases by priority\n/case N – one case"
        if name == "queue":
            counts = repo.open_counts()
            lines = [f"Open cases: urgent {counts.get('urgent', 0)}, high {counts.get('high', 0)}, "
                     f"normal {counts.get('normal', 0)}"]
            lines += [f"#{c['id']} {c['priority']} {c['status']} · {c['summary']}" for c in repo.first_in_queue(5)]
            lines.append(f"{store.console_url}/queue")
            return _escape("\n".join(lines))
        number = parts[1].lstrip("#") if len(parts) > 1 else ""
        # ASCII digits, at most 9 of them: "²" or "١" passed isdigit() but not int(), and a number beyond
        # the id column's 32 bits was an error on PostgreSQL
        if not (number.isascii() and number.isdigit() and len(number) <= 9):
            return "Usage: /case N"
        case = repo.get_case(int(number))
        if case is None:
            return "No such case."
        return _escape(f"#{case['id']} {case['priority']} {case['status']} · {case['summary']}\n"
                       f"{store.console_url}/cases/{case['id']}")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
