"""Engine and tables (SQLAlchemy 2). SQLite by default (WAL, a busy timeout, so that the bot, the staff
console and the outbox workers can share it); PostgreSQL through DATABASE_URL. The schema is created and
changed by the Alembic migrations in bot/storage/migrations (`safesafar db upgrade`), never by create_all
outside tests of the migrations themselves."""
from __future__ import annotations

import contextvars
import json
import logging
import sqlite3
import threading
from datetime import date, datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, create_engine, event, text)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


TZ = DateTime(timezone=True)



class ConversationRow(Base):
    """The dialogue state of one user (language, open guided flow, last offer check)."""
    __tablename__ = "conversation_state"

    user_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(16))
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    flow: Mapped[dict | None] = mapped_column(JSON)
    last_topic: Mapped[str | None] = mapped_column(String(64))
    misses: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)
    # bumped by every turn that stores this row: a turn stores only if it is still the version it loaded
    # (hotline/turn.py, storage/turns.py save_state), so two workers never both apply a turn to the same state
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="0")


class UserRow(Base):
    """A person talking to the bot. The channel's ids are kept only to reply (chat_id) and to recognise
    them (external_id); /delete_me and the purge remove them."""
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_users_channel_external"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class CaseRow(Base):
    """An escalation: a conversation that a person at the hotline must see. At most one open case per
    user (a partial unique index): new messages join it."""
    __tablename__ = "cases"
    __table_args__ = (
        Index("uq_cases_one_open_per_user", "user_id", unique=True,
              sqlite_where=text("status != 'resolved'"), postgresql_where=text("status != 'resolved'")),
        Index("ix_cases_queue", "status", "priority_rank", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    priority: Mapped[str] = mapped_column(String(8))  # urgent | high | normal
    priority_rank: Mapped[int] = mapped_column(Integer)  # 0 urgent, 1 high, 2 normal: the queue's order
    status: Mapped[str] = mapped_column(String(16), default="new")
    reason: Mapped[str] = mapped_column(String(32))  # emergency | safety_net | report | human | offer_check | fallback
    language: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200), default="")  # one line, no personal data
    entities: Mapped[dict] = mapped_column(JSON, default=dict)
    offer_check: Mapped[dict | None] = mapped_column(JSON)
    report: Mapped[dict | None] = mapped_column(JSON)
    # what made it urgent: the danger lexicon's phrases and the classifier's emergency probability
    fired_by: Mapped[str | None] = mapped_column(String(200))
    transcript: Mapped[list] = mapped_column(JSON, default=list)  # the conversation before the case opened
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(TZ)
    last_user_message_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_at: Mapped[datetime | None] = mapped_column(TZ)
    outcome: Mapped[str | None] = mapped_column(String(32))  # set on resolve: referral or result (web/shift.py)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change (optimistic checks)


class MessageRow(Base):
    """One message of a conversation: from the user (in), from the bot (out) or from the hotline (staff)."""
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # in | out | staff
    kind: Mapped[str] = mapped_column(String(16))  # text | command | button | media
    text: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)  # intent, confidence, entities, media kind, staff id
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)


class StaffRow(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor | editor | admin
    telegram_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # for commands in the staff group
    language: Mapped[str] = mapped_column(String(16), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(TZ)
    # in each session cookie; logout, a new password, disabling or a new role bump it: every session ends
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # the person's console settings: {"notify": bool, "sound": bool, "urdu_font": "nastaliq" | "naskh"}
    prefs: Mapped[dict | None] = mapped_column(JSON)


class NoteRow(Base):
    """An internal note on a case: never sent to the user."""
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class TagRow(Base):
    """A tag for cases (a route, a destination, an agent), so that patterns show; supervisors keep the list."""
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_tags_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # route | destination | agent | other
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class CaseTagRow(Base):
    __tablename__ = "case_tags"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class SavedViewRow(Base):
    """A person's saved queue view: a name and the queue's filters."""
    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)  # view, language, priority, reason, tag, overdue
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class HandoverRow(Base):
    """A shift-handover note: written at the end of a shift, shown on the queue to the others until one
    of them acknowledges it."""
    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(TZ)


class AuditRow(Base):
    """Who did what, when: every staff action and every case the system opened."""
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))  # a username, or "bot" / "system"
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class OutboxRow(Base):
    """A message to send, written in the same transaction as what caused it; delivered (and retried with
    backoff, across restarts) by outbox workers. dedupe_key makes a replayed cause write it once."""
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # reply | staff_alert | staff_reply
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    chat_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)  # {"text": html, "buttons": [[[label, data], ...], ...]}
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)


class InboxRow(Base):
    """Every update received from a channel, stored before the channel is told it arrived: an update
    is processed once (done), and one that was not finished when the process died is processed at restart.
    user_key orders a user's turns: a turn waits while an earlier update of the same user is still new."""
    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_user_new", "source", "user_key", "update_id",
                            sqlite_where=text("status = 'new'"), postgresql_where=text("status = 'new'")),)

    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # e.g. "tg"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="new")  # new | done | retry | failed
    user_key: Mapped[str | None] = mapped_column(String(128))  # e.g. "tg:123": a private conversation's user
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)
    done_at: Mapped[datetime | None] = mapped_column(TZ)


class CannedReplyRow(Base):
    """A prepared answer staff can send, per language; supervisors edit them."""
    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))


class LoginAttemptRow(Base):
    """Failed and successful logins, for throttling (by username and by address)."""
    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)


BUSY_TIMEOUT_MS = 30_000
# How long a SQLite statement waits for another connection's lock (the console, `db purge`, another
# worker): storage/executor.py lowers it while work runs on the event loop, then retries in a thread.
sqlite_busy_ms: contextvars.ContextVar[int] = contextvars.ContextVar("sqlite_busy_ms", default=BUSY_TIMEOUT_MS)
class RegisterImportRow(Base):
    """One import of the OEP register (bot/register/): a dated snapshot of the licensed agencies and/or
    notices. Staged as pending with its preview, then applied (the newest applied snapshot is the
    register) or discarded; applied ones stay as the history."""
    __tablename__ = "register_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | applied | discarded
    register_date: Mapped[date | None] = mapped_column(Date)  # the day the pages were saved
    agencies: Mapped[int] = mapped_column(Integer, default=0)  # rows in this snapshot (0: notices only)
    base_import_id: Mapped[int | None] = mapped_column(Integer)  # the snapshot the preview was compared with
    files: Mapped[list] = mapped_column(JSON, default=list)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)  # new, gone, status, expiry, unchanged, notices
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(TZ)


class RegisterAgencyRow(Base):
    """An agency of one register snapshot, as BE&OE lists it."""
    __tablename__ = "register_agencies"
    __table_args__ = (UniqueConstraint("import_id", "licence", name="uq_register_agencies_import_licence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id", ondelete="CASCADE"), index=True)
    licence: Mapped[str] = mapped_column(String(32))  # NNNN/REG
    title: Mapped[str] = mapped_column(String(300))
    proprietor: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16))  # valid | expired | suspended | cancelled | surrendered | ...
    raw_status: Mapped[str] = mapped_column(String(64), default="")
    expiry: Mapped[date | None] = mapped_column(Date)
    head_office: Mapped[str] = mapped_column(Text, default="")
    branches: Mapped[str] = mapped_column(Text, default="")


class RegisterNoticeRow(Base):
    """A disciplinary notice (show cause, warning, suspension, blacklisting, restoration), linked to an
    agency by the licence number it names, or by a name match a person confirmed."""
    __tablename__ = "register_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("register_imports.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))
    licence: Mapped[str | None] = mapped_column(String(32), index=True)  # the linked agency
    linked_by: Mapped[str | None] = mapped_column(String(16))  # licence | name
    candidate: Mapped[str | None] = mapped_column(String(32))  # a name match waiting for a person's yes
    score: Mapped[float | None] = mapped_column(Float)


class LearningItemRow(Base):
    """A message the bot misunderstood (fell back, asked back, marked not helpful, relabelled by staff),
    redacted before it was stored (bot/learning/redact.py), one row per normalized text (`norm`) with
    its count; reviewed in the console, then applied to the training data (bot/learning/)."""
    __tablename__ = "learning_items"
    __table_args__ = (UniqueConstraint("language", "norm", name="uq_learning_items_language_norm"),
                      Index("ix_learning_items_status_seen", "status", "last_seen"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    language: Mapped[str] = mapped_column(String(16))
    norm: Mapped[str] = mapped_column(String(400))  # bot/learning/group.normalize of `text`
    text: Mapped[str] = mapped_column(Text)  # redacted
    source: Mapped[str] = mapped_column(String(16))  # fallback | ask_back | not_helpful | staff
    intent: Mapped[str | None] = mapped_column(String(64))  # the NLU's best intent
    confidence: Mapped[float | None] = mapped_column(Float)
    ranking: Mapped[list] = mapped_column(JSON, default=list)  # [[intent, confidence], ...] the best 4
    entities: Mapped[list] = mapped_column(JSON, default=list)  # detected: [[start, end, entity], ...] on text
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | labelled | new_topic | ignored | applied
    label: Mapped[str | None] = mapped_column(String(64))  # the reviewer's intent (out_of_scope too)
    label_entities: Mapped[list | None] = mapped_column(JSON)  # [[start, end, entity], ...] on text
    labelled_by: Mapped[str | None] = mapped_column(String(64))
    labelled_at: Mapped[datetime | None] = mapped_column(TZ)
    applied_by: Mapped[str | None] = mapped_column(String(64))
    applied_at: Mapped[datetime | None] = mapped_column(TZ)
    case_id: Mapped[int | None] = mapped_column(Integer)  # relabelled from this case
    first_seen: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class LearningFingerprintRow(Base):
    """A normalized message that must not come back to the inbox: ignored or applied before."""
    __tablename__ = "learning_fingerprints"

    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    norm: Mapped[str] = mapped_column(String(400), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # ignored | applied
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class AnswerFeedbackRow(Base):
    """A 👍 or 👎 under an answer: the topic and language only, nobody's id."""
    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    vote: Mapped[str] = mapped_column(String(8))  # up | down
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)


class NLUModelRow(Base):
    """One NLU model of the learning loop (bot/nlu/lifecycle.py): a retraining job and the candidate it
    trained, its gate report, and whether it was promoted. The model served is `active`; the one before
    it `retired` (rollback brings it back). `running` is 1 while a job is queued, training or evaluating
    (unique: one job at a time), else NULL."""
    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # queued | training | evaluating | passed | refused | failed | active | retired | rolled_back
    status: Mapped[str] = mapped_column(String(16), default="queued")
    running: Mapped[int | None] = mapped_column(Integer, unique=True)
    mode: Mapped[str] = mapped_column(String(16), default="auto")  # auto | full | finetune | initial
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    pid: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    model_file: Mapped[str | None] = mapped_column(String(200))
    langid_file: Mapped[str | None] = mapped_column(String(200))
    base_model: Mapped[str | None] = mapped_column(String(200))  # the model it was finetuned from
    inputs: Mapped[str | None] = mapped_column(String(32))  # the hash of the training inputs
    data: Mapped[dict] = mapped_column(JSON, default=dict)  # config hash, intents, entities, examples per language
    scores: Mapped[dict | None] = mapped_column(JSON)  # this model's scores on the held-out and near-miss sets
    report: Mapped[dict | None] = mapped_column(JSON)  # the gate: old and new side by side, changed answers
    train_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)
    promoted_at: Mapped[datetime | None] = mapped_column(TZ)
    promoted_by: Mapped[str | None] = mapped_column(String(64))


def json_text(value) -> str:
    """JSON columns as the database stores them: UTF-8 text, not \\u escapes, so that a search finds Urdu."""
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str, **kwargs) -> Engine:
    kwargs.setdefault("json_serializer", json_text)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: a crashed process loses nothing committed
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            dbapi_connection.isolation_level = None  # transactions are begun below, not by pysqlite

        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            busy, info = sqlite_busy_ms.get(), conn.connection.info  # info: kept with the driver connection
            if info.get("busy_ms", BUSY_TIMEOUT_MS) != busy:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy)}")
                info["busy_ms"] = busy
            # take the write lock at the start: read-then-write transactions never hit SQLITE_BUSY midway;
            # connections marked read_only=True (reads of one turn) take no lock: each query sees the
            # last commit (WAL)
            if not conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


class WalCheckpointer:
    """Checkpoints a SQLite database's write-ahead log from a thread of its own.

    SQLite checkpoints in whichever connection commits when the log passes 1,000 pages, and a checkpoint
    syncs the database file: 10-30 ms on this machine's disk. Since SQLite work runs on the event loop
    (storage/executor.py), that stalled every update in flight a few times a second. While this runs,
    the engine's connections do not checkpoint (wal_autocheckpoint=0); this thread does, every
    `interval` seconds, with PASSIVE (it never blocks writers) on its own connection, outside the GIL.
    Stopped, the engine's connections checkpoint themselves again."""

    def __init__(self, engine: Engine, interval: float = 0.5):
        self.engine, self.interval = engine, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def _no_autocheckpoint(self, dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    def start(self) -> "WalCheckpointer":
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database or self._thread is not None:
            return self
        event.listen(self.engine, "connect", self._no_autocheckpoint)
        self.engine.dispose()  # connections made before this would still checkpoint themselves
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        connection = sqlite3.connect(self.engine.url.database, timeout=30, isolation_level=None,
                                     check_same_thread=False)
        try:
            while not self._stop.wait(self.interval):
                self._checkpoint(connection)
            self._checkpoint(connection)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection) -> None:
        """One checkpoint; an error is logged and the next interval tries again (the thread must not die:
        the engine's connections leave checkpoints to it, and the log would grow without end)."""
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.checkpoints += 1
        except sqlite3.Error as exc:
            logging.getLogger("safesafar.storage").warning("WAL checkpoint failed: %s", exc)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None
        event.remove(self.engine, "connect", self._no_autocheckpoint)
        self.engine.dispose()

from . import content_tables  # noqa: E402,F401 - the workbench tables join Base.metadata
