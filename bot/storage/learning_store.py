"""The learning inbox's storage (issue 20): its rows (one per language and normalized text, with a
count), the fingerprints of what was ignored or applied (never back), the 👍/👎 counts. Storage only:
what is redacted, grouped and applied is decided in bot/learning/."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .db import AnswerFeedbackRow, LearningFingerprintRow, LearningItemRow, StaffRow

ITEMS = LearningItemRow.__table__
PRINTS = LearningFingerprintRow.__table__
FEEDBACK = AnswerFeedbackRow.__table__
STAFF = StaffRow.__table__
OPEN = ("new", "labelled")  # what the review page lists


def staff_names(conn: Connection) -> list[str]:
    """Every staff member's display name and username (redaction removes them from messages)."""
    names: list[str] = []
    for display, username in conn.execute(select(STAFF.c.display_name, STAFF.c.username)):
        names += [n for n in (display, username) if n]
    return names


def fingerprinted(conn: Connection, language: str, norm: str) -> bool:
    return conn.execute(select(PRINTS.c.reason).where(PRINTS.c.language == language, PRINTS.c.norm == norm)).first() is not None


def add_item(conn: Connection, row: dict, now: datetime) -> str:
    """One misunderstood message (already redacted): its row's count goes up, or a new row. Returns
    "added", "counted" or "known" (fingerprinted: ignored or applied before)."""
    language, norm = row["language"], row["norm"]
    if fingerprinted(conn, language, norm):
        return "known"
    where = and_(ITEMS.c.language == language, ITEMS.c.norm == norm)
    if conn.execute(update(ITEMS).where(where).values(count=ITEMS.c.count + 1, last_seen=now)).rowcount:
        return "counted"
    values = dict(language=language, norm=norm, text=row["text"], source=row["source"], intent=row.get("intent"),
                  confidence=row.get("confidence"), ranking=list(row.get("ranking") or []),
                  entities=list(row.get("entities") or []), count=1, status=row.get("status", "new"),
                  label=row.get("label"), label_entities=row.get("label_entities"), labelled_by=row.get("labelled_by"),
                  labelled_at=now if row.get("label") else None, case_id=row.get("case_id"),
                  first_seen=now, last_seen=now)
    try:
        with conn.begin_nested():
            conn.execute(insert(ITEMS).values(**values))
    except IntegrityError:  # the same text stored by another turn at the same moment
        conn.execute(update(ITEMS).where(where).values(count=ITEMS.c.count + 1, last_seen=now))
        return "counted"
    return "added"


def add_feedback(conn: Connection, topic: str, language: str, vote: str, now: datetime) -> None:
    conn.execute(insert(FEEDBACK).values(topic=topic, language=language, vote=vote, created_at=now))


def items(conn: Connection, statuses: Iterable[str] = OPEN, language: str | None = None, intent: str | None = None,
          since: datetime | None = None, until: datetime | None = None, max_confidence: float | None = None,
          min_confidence: float | None = None, source: str | None = None, limit: int = 2000) -> list[dict]:
    """Rows by filter, the most frequent and the newest first."""
    query = select(ITEMS).where(ITEMS.c.status.in_(list(statuses)))
    if language:
        query = query.where(ITEMS.c.language == language)
    if intent:
        query = query.where(or_(ITEMS.c.intent == intent, ITEMS.c.label == intent))
    if since is not None:
        query = query.where(ITEMS.c.last_seen >= since)
    if until is not None:
        query = query.where(ITEMS.c.last_seen < until)
    if max_confidence is not None:
        query = query.where(func.coalesce(ITEMS.c.confidence, 0.0) <= max_confidence)
    if min_confidence is not None:
        query = query.where(func.coalesce(ITEMS.c.confidence, 0.0) >= min_confidence)
    if source:
        query = query.where(ITEMS.c.source == source)
    query = query.order_by(ITEMS.c.count.desc(), ITEMS.c.last_seen.desc(), ITEMS.c.id).limit(limit)
    return [dict(r) for r in conn.execute(query).mappings()]


def items_by_id(conn: Connection, ids: Iterable[int]) -> list[dict]:
    ids = list(ids)
    if not ids:
        return []
    return [dict(r) for r in conn.execute(select(ITEMS).where(ITEMS.c.id.in_(ids)).order_by(ITEMS.c.id)).mappings()]


def set_status(conn: Connection, ids: Iterable[int], status: str, by: str, now: datetime, label: str | None = None,
               entities: dict[int, list] | None = None, only: Iterable[str] = OPEN) -> int:
    """The reviewer's decision on rows still open (`only`); entities: per row id (None: keep)."""
    ids = list(ids)
    changed = 0
    for item_id in ids:
        values = dict(status=status, label=label, labelled_by=by, labelled_at=now)
        if entities is not None and item_id in entities:
            values["label_entities"] = entities[item_id]
        changed += conn.execute(update(ITEMS).where(ITEMS.c.id == item_id, ITEMS.c.status.in_(list(only)))
                                .values(**values)).rowcount
    return changed


def fingerprint(conn: Connection, rows: Iterable[dict], reason: str, now: datetime) -> None:
    for row in rows:
        where = and_(PRINTS.c.language == row["language"], PRINTS.c.norm == row["norm"])
        if conn.execute(update(PRINTS).where(where).values(reason=reason)).rowcount == 0:
            conn.execute(insert(PRINTS).values(language=row["language"], norm=row["norm"], reason=reason,
                                               created_at=now))


def label_text(conn: Connection, language: str, norm: str, label: str, by: str, now: datetime,
               case_id: int | None) -> int:
    """A staff member's label on the row of this text (still open, or marked as a new topic)."""
    return conn.execute(update(ITEMS).where(ITEMS.c.language == language, ITEMS.c.norm == norm,
                                            ITEMS.c.status.in_(OPEN + ("new_topic",)))
                        .values(status="labelled", label=label, labelled_by=by, labelled_at=now, source="staff",
                                case_id=case_id)).rowcount


def mark_applied(conn: Connection, ids: Iterable[int], by: str, now: datetime) -> int:
    return conn.execute(update(ITEMS).where(ITEMS.c.id.in_(list(ids)), ITEMS.c.status == "labelled")
                        .values(status="applied", applied_by=by, applied_at=now)).rowcount


def close_known(conn: Connection, ids: Iterable[int]) -> None:
    """Rows whose text is in the training data now (added there by someone else): out of the inbox."""
    ids = list(ids)
    if ids:
        conn.execute(delete(ITEMS).where(ITEMS.c.id.in_(ids), ITEMS.c.status == "new"))


def fingerprints(conn: Connection, language: str) -> list[str]:
    return list(conn.execute(select(PRINTS.c.norm).where(PRINTS.c.language == language,
                                                         PRINTS.c.reason == "ignored")).scalars())


def feedback_counts(conn: Connection) -> list[dict]:
    query = (select(FEEDBACK.c.topic, FEEDBACK.c.language, FEEDBACK.c.vote, func.count().label("n"))
             .group_by(FEEDBACK.c.topic, FEEDBACK.c.language, FEEDBACK.c.vote).order_by(FEEDBACK.c.topic))
    return [dict(r) for r in conn.execute(query).mappings()]
