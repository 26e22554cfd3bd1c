"""Commands in the Telegram staff group. Only staff whose Telegram id is registered (`safesafar staff add
--telegram-id`) may use them; anyone else is told so. What they print has no personal data: case
numbers, priorities, languages and the one-line summaries."""
from __future__ import annotations

from sqlalchemy import func, select

from ..storage.db import AuditRow, CaseRow, StaffRow, utcnow
from ..storage.hotline_store import HotlineStore


def staff_command(store: HotlineStore, telegram_id: str, text: str) -> str | None:
    parts = text.strip().split()
    name = parts[0][1:].split("@")[0].lower() if parts and parts[0].startswith("/") else ""
    if name not in ("queue", "case", "help", "start"):
        return None
    with store.sessions.begin() as session:
        staff = session.scalars(select(StaffRow).where(StaffRow.telegram_id == telegram_id,
                                                       StaffRow.active.is_(True))).first()
        if staff is None:
            session.add(AuditRow(at=utcnow(), actor=f"tg:{telegram_id}", action="staff_group_refused",
                                 detail={"command": name}))
            return "Only registered hotline staff can use commands here."
        session.add(AuditRow(at=utcnow(), staff_id=staff.id, actor=staff.username, action="staff_group_command",
                             detail={"command": name}))
        if name in ("help", "start"):
            return "/queue – open cases by priority\n/case N – one case"
        if name == "queue":
            rows = session.execute(select(CaseRow.priority, func.count()).where(CaseRow.status != "resolved")
                                   .group_by(CaseRow.priority)).all()
            counts = dict(rows)
            oldest = session.scalars(select(CaseRow).where(CaseRow.status != "resolved")
                                     .order_by(CaseRow.priority_rank, CaseRow.created_at).limit(5)).all()
            lines = [f"Open cases: urgent {counts.get('urgent', 0)}, high {counts.get('high', 0)}, "
                     f"normal {counts.get('normal', 0)}"]
            lines += [f"#{c.id} {c.priority} {c.status} · {c.summary}" for c in oldest]
            lines.append(f"{store.console_url}/queue")
            return _escape("\n".join(lines))
        number = parts[1].lstrip("#") if len(parts) > 1 else ""
        # ASCII digits, at most 9 of them: "²" or "١" passed isdigit() but not int(), and a number beyond
        # the id column's 32 bits was an error on PostgreSQL
        if not (number.isascii() and number.isdigit() and len(number) <= 9):
            return "Usage: /case N"
        case = session.get(CaseRow, int(number))
        if case is None:
            return "No such case."
        return _escape(f"#{case.id} {case.priority} {case.status} · {case.summary}\n{store.console_url}/cases/{case.id}")


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)
