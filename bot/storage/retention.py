"""The retention period: what the assistant keeps about people is deleted when it is no longer needed.

`safesafar db purge` (RETENTION_DAYS, default 180) deletes:
- messages older than the period that belong to no case, or to a case resolved before the period began;
- cases resolved before the period began (with their notes);
- users with nothing left and not seen during the period (their dialogue state too);
- processed inbox updates and delivered outbox rows older than 7 days; login attempts older than 30 days.
Open cases and everything in them are always kept. The audit log is kept (it has no message text).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select

from .db import (CaseRow, ConversationRow, InboxRow, LoginAttemptRow, MessageRow, NoteRow, OutboxRow, UserRow,
                 make_engine, utcnow)


def purge(url: str, days: int, dry_run: bool = False, now: datetime | None = None) -> dict[str, int]:
    if days < 1:
        raise ValueError("the retention period must be at least one day")
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    week = now - timedelta(days=7)
    engine = make_engine(url)
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            old_cases = select(CaseRow.id).where(CaseRow.status == "resolved", CaseRow.resolved_at < cutoff)
            message_filter = (MessageRow.created_at < cutoff) & or_(MessageRow.case_id.is_(None),
                                                                  MessageRow.case_id.in_(old_cases))
            statements = [
                ("messages", MessageRow, message_filter),
                ("notes", NoteRow, NoteRow.case_id.in_(old_cases)),
                ("cases", CaseRow, CaseRow.id.in_(old_cases)),
            ]
            for name, table, where in statements:
                counts[name] = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
                if not dry_run:
                    conn.execute(delete(table).where(where))
            idle_users = (UserRow.last_seen_at < cutoff) & ~exists().where(MessageRow.user_id == UserRow.id) \
                & ~exists().where(CaseRow.user_id == UserRow.id)
            keys = [f"{c}:{e}" for c, e in conn.execute(select(UserRow.channel, UserRow.external_id).where(idle_users))]
            counts["users"] = len(keys)
            stale_states = ConversationRow.updated_at < cutoff
            counts["conversation states"] = conn.execute(
                select(func.count()).select_from(ConversationRow).where(stale_states)).scalar_one()
            rest = [("inbox updates", InboxRow, (InboxRow.status != "new") & (InboxRow.received_at < week)),
                    ("outbox rows", OutboxRow, (OutboxRow.status != "pending") & (OutboxRow.created_at < week)),
                    ("login attempts", LoginAttemptRow, LoginAttemptRow.at < now - timedelta(days=30))]
            for name, table, where in rest:
                counts[name] = conn.execute(select(func.count()).select_from(table).where(where)).scalar_one()
            if not dry_run:
                conn.execute(delete(UserRow).where(idle_users))
                conn.execute(delete(ConversationRow).where(stale_states))
                for _name, table, where in rest:
                    conn.execute(delete(table).where(where))
    finally:
        engine.dispose()
    return counts
