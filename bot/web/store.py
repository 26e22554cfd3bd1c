"""The console's SQL: staff, login attempts, the audit log, the queue, case actions, canned replies.

Every function takes a connection inside a transaction (`with engine.begin() as conn`): an action and its
audit row commit together or not at all. Case changes are single conditional UPDATEs checked by their
row count, so two people acting at once on SQLite or PostgreSQL never both win.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ..hotline import cases as rules
from ..hotline.cases import CASE_ROLES, MAX_NOTE, MAX_REPLY, CaseError, NotFound  # noqa: F401 - the console's names
from ..hotline.policy import RESPONSE_TARGET_MINUTES
from ..storage.cases import SqlCaseRepository, case_select
from ..telegram.case_text import TelegramCaseText
from ..storage.db import (AuditRow, CannedReplyRow, CaseRow, LoginAttemptRow, MessageRow, NoteRow, OutboxRow,
                          StaffRow, UserRow)
from .edge import neutralise_bidi, neutralise_fields

cases = CaseRow.__table__
users = UserRow.__table__
messages = MessageRow.__table__
staff_t = StaffRow.__table__
notes = NoteRow.__table__
audit_t = AuditRow.__table__
outbox = OutboxRow.__table__
canned = CannedReplyRow.__table__
attempts = LoginAttemptRow.__table__

# first-response targets: a case without a reply from the hotline after this long is overdue
RESPONSE_TARGETS = {priority: timedelta(minutes=minutes) for priority, minutes in RESPONSE_TARGET_MINUTES.items()}
VIEWS = ("unassigned", "mine", "all", "resolved")
CANNED_LANGUAGES = ("en", "ur", "ur-Latn")


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: str
    language: str
    active: bool
    session_epoch: int = 0  # a session cookie with another epoch is refused
    prefs: dict | None = None  # console settings (shift.py): notifications, sound, Urdu font

    @property
    def name(self) -> str:
        return self.display_name or self.username


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back (stored in UTC), PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# -- staff ----------------------------------------------------------------------------------------------

def _staff(row) -> Staff:
    return Staff(row.id, row.username, row.display_name or "", row.role, row.language or "en", bool(row.active),
                 row.session_epoch or 0, dict(row.prefs or {}))


def get_staff(conn: Connection, staff_id: int) -> Staff | None:
    row = conn.execute(select(staff_t).where(staff_t.c.id == staff_id)).first()
    return _staff(row) if row else None


def staff_login_row(conn: Connection, username: str):
    return conn.execute(select(staff_t).where(staff_t.c.username == username)).first()


def list_staff(conn: Connection) -> list:
    return list(conn.execute(select(staff_t).order_by(staff_t.c.active.desc(), staff_t.c.username)))


def create_staff(conn: Connection, username: str, password_hash: str, role: str, now: datetime,
                 display_name: str = "", telegram_id: str | None = None, language: str = "en") -> int:
    result = conn.execute(insert(staff_t).values(
        username=neutralise_bidi(username)[:64], password_hash=password_hash, role=role,
        display_name=neutralise_bidi(display_name)[:128],
        telegram_id=telegram_id or None, language=language, active=True, created_at=now))
    return result.inserted_primary_key[0]


def end_sessions(conn: Connection, staff_id: int) -> None:
    """Every session cookie issued to the person so far stops working (logout, new password, disabled, new role)."""
    conn.execute(update(staff_t).where(staff_t.c.id == staff_id).values(session_epoch=staff_t.c.session_epoch + 1))


def set_staff_active(conn: Connection, staff_id: int, active: bool) -> bool:
    values = {"active": active} if active else {"active": False, "session_epoch": staff_t.c.session_epoch + 1}
    return conn.execute(update(staff_t).where(staff_t.c.id == staff_id).values(**values)).rowcount == 1


def set_staff_role(conn: Connection, staff_id: int, role: str) -> bool:
    """A new role ends the person's sessions: they log in again and see what the new role allows."""
    return conn.execute(update(staff_t).where(staff_t.c.id == staff_id, staff_t.c.role != role)
                        .values(role=role, session_epoch=staff_t.c.session_epoch + 1)).rowcount == 1


def set_staff_language(conn: Connection, staff_id: int, language: str) -> None:
    conn.execute(update(staff_t).where(staff_t.c.id == staff_id).values(language=language))


def set_password_hash(conn: Connection, staff_id: int, password_hash: str, end_sessions: bool = True) -> None:
    """A new password ends the person's sessions; a rehash of the same password at login does not."""
    values: dict = {"password_hash": password_hash}
    if end_sessions:
        values["session_epoch"] = staff_t.c.session_epoch + 1
    conn.execute(update(staff_t).where(staff_t.c.id == staff_id).values(**values))


def record_login(conn: Connection, staff_id: int, now: datetime) -> None:
    conn.execute(update(staff_t).where(staff_t.c.id == staff_id).values(last_login_at=now))


def assignable_staff(conn: Connection) -> list[Staff]:
    rows = conn.execute(select(staff_t).where(staff_t.c.active.is_(True), staff_t.c.role.in_(CASE_ROLES))
                        .order_by(staff_t.c.username))
    return [_staff(r) for r in rows]


# -- login attempts (throttling) ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """A reserved login attempt: id None when throttled; `trips`: the limits ("username", "address") that
    this attempt reaches if it fails."""
    id: int | None
    trips: tuple[str, ...] = ()


def _lock_attempts(conn: Connection) -> None:
    """Serialises reservations (count, then insert) until the transaction ends. SQLite: the transaction
    already holds the database's write lock (BEGIN IMMEDIATE, storage.db); PostgreSQL: an advisory lock."""
    if conn.dialect.name == "postgresql":
        conn.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ATTEMPTS_LOCK})


_ATTEMPTS_LOCK = 0x5AFE_10C1  # an arbitrary key of this application's advisory lock


def reserve_attempt(conn: Connection, username: str, address: str, now: datetime, since: datetime, *,
                    max_username: int, max_address: int) -> Attempt:
    """Atomically: unless the username (max_username failures since `since` and its last success) or the
    address (max_address failures since `since`) is throttled, records the attempt as a failure, which
    attempt_succeeded() corrects once the password is checked. Attempts at once are counted in turn."""
    username, address = username[:64], address[:64]
    _lock_attempts(conn)
    by_name = recent_failures(conn, since, username=username)
    by_address = recent_failures(conn, since, address=address)
    if by_name >= max_username or by_address >= max_address:
        return Attempt(None)
    attempt_id = conn.execute(insert(attempts).values(username=username, address=address, ok=False, at=now)
                              ).inserted_primary_key[0]
    trips = tuple(scope for scope, count, limit in (("username", by_name, max_username),
                                                    ("address", by_address, max_address)) if count + 1 == limit)
    return Attempt(attempt_id, trips)


def attempt_succeeded(conn: Connection, attempt_id: int) -> None:
    conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(ok=True))


def recent_failures(conn: Connection, since: datetime, *, username: str | None = None,
                    address: str | None = None) -> int:
    """Failed logins since `since`: for a username, those after its last successful login; for an address,
    all of them (a login to one account must not give an address new guesses at the others)."""
    if username is not None:
        column, key = attempts.c.username, username[:64]
    else:
        column, key = attempts.c.address, (address or "")[:64]
    condition = [column == key, attempts.c.ok.is_(False), attempts.c.at >= since]
    if username is not None:
        last_ok = conn.execute(select(func.max(attempts.c.id)).where(column == key, attempts.c.ok.is_(True),
                                                                     attempts.c.at >= since)).scalar()
        if last_ok is not None:
            condition.append(attempts.c.id > last_ok)
    return conn.execute(select(func.count()).select_from(attempts).where(*condition)).scalar_one()


# -- audit ----------------------------------------------------------------------------------------------

def audit(conn: Connection, now: datetime, actor: Staff | str, action: str, case_id: int | None = None, *,
          staff_id: int | None = None, **detail) -> None:
    """actor: the staff member acting, or a name ("system", "cli", an unknown username at login). Bidi
    controls in the actor and the detail are written visibly (edge.neutralise_bidi)."""
    if isinstance(actor, Staff):
        staff_id, name = actor.id, actor.username
    else:
        name = actor
    conn.execute(insert(audit_t).values(at=now, staff_id=staff_id, actor=neutralise_bidi(name)[:64], action=action,
                                        case_id=case_id, detail=neutralise_fields(detail)))


def list_audit(conn: Connection, limit: int = 100, before: int | None = None, case_id: int | None = None,
               action: str | None = None, actor: str | None = None) -> list:
    query = select(audit_t).order_by(audit_t.c.id.desc()).limit(limit)
    if before:
        query = query.where(audit_t.c.id < before)
    if case_id:
        query = query.where(audit_t.c.case_id == case_id)
    if action:
        query = query.where(audit_t.c.action == action)
    if actor:
        query = query.where(audit_t.c.actor == actor)
    return list(conn.execute(query))


def audit_actions(conn: Connection) -> list[str]:
    return list(conn.execute(select(audit_t.c.action).distinct().order_by(audit_t.c.action)).scalars())


# -- the queue ------------------------------------------------------------------------------------------

def _view_condition(view: str, staff_id: int):
    open_ = cases.c.status != "resolved"
    if view == "unassigned":
        return and_(open_, cases.c.assigned_to.is_(None))
    if view == "mine":
        return and_(open_, cases.c.assigned_to == staff_id)
    if view == "resolved":
        return cases.c.status == "resolved"
    return open_


def _overdue_condition(now: datetime):
    late = [and_(cases.c.priority == priority, cases.c.created_at < now - target)
            for priority, target in RESPONSE_TARGETS.items()]
    return and_(cases.c.status != "resolved", cases.c.first_response_at.is_(None), or_(*late))


def queue(conn: Connection, view: str, staff_id: int, limit: int = 300) -> list[dict]:
    """Open views: urgent first (priority_rank), then the oldest first. Resolved: the latest first."""
    query = case_select().where(_view_condition(view, staff_id)).limit(limit)
    if view == "resolved":
        query = query.order_by(cases.c.resolved_at.desc(), cases.c.id.desc())
    else:
        query = query.order_by(cases.c.priority_rank, cases.c.created_at, cases.c.id)
    return [dict(row._mapping) for row in conn.execute(query)]


def counts(conn: Connection, staff_id: int, now: datetime) -> dict[str, int]:
    out = {view: conn.execute(select(func.count()).select_from(cases).where(_view_condition(view, staff_id)))
           .scalar_one() for view in VIEWS}
    out["overdue"] = conn.execute(select(func.count()).select_from(cases).where(_overdue_condition(now))).scalar_one()
    return out


def timing(case: dict, now: datetime) -> dict:
    """Age, time to first response against the target, overdue."""
    created = as_utc(case["created_at"])
    first = as_utc(case.get("first_response_at"))
    resolved = as_utc(case.get("resolved_at"))
    target = RESPONSE_TARGETS.get(case["priority"], RESPONSE_TARGETS["normal"])
    end = resolved or now
    age = max(end - created, timedelta(0))
    if first is not None:
        response = max(first - created, timedelta(0))
        return {"age": age, "target": target, "response": response, "late": response > target,
                "overdue": False, "due_in": None}
    waiting = max(now - created, timedelta(0))
    overdue = case["status"] != "resolved" and waiting > target
    return {"age": age, "target": target, "response": None, "late": overdue, "overdue": overdue,
            "due_in": None if case["status"] == "resolved" else target - waiting}


# -- one case ---------------------------------------------------------------------------------------------

def get_case(conn: Connection, case_id: int) -> dict:
    row = conn.execute(case_select().where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(case_id)
    return dict(row._mapping)


def case_messages(conn: Connection, case_id: int) -> list[dict]:
    rows = conn.execute(select(messages).where(messages.c.case_id == case_id).order_by(messages.c.id))
    return [dict(r._mapping) for r in rows]


def case_notes(conn: Connection, case_id: int) -> list[dict]:
    rows = conn.execute(select(notes, staff_t.c.username).select_from(notes.outerjoin(staff_t, notes.c.staff_id == staff_t.c.id))
                        .where(notes.c.case_id == case_id).order_by(notes.c.id))
    return [dict(r._mapping) for r in rows]


def case_fingerprint(conn: Connection, case_id: int) -> dict:
    """What the case page polls: it refreshes its transcript when this changes."""
    row = conn.execute(select(cases.c.version, cases.c.status).where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(case_id)
    last = conn.execute(select(func.max(messages.c.id)).where(messages.c.case_id == case_id)).scalar()
    return {"version": row.version, "status": row.status, "last_message": last or 0}


def other_open_case(conn: Connection, user_id: int, case_id: int) -> int | None:
    return SqlCaseRepository(conn).other_open_case(user_id, case_id)


class ConsoleCases(SqlCaseRepository):
    """The case repository of a console action: its audit rows neutralise bidi controls (audit()), and a
    reopen that the one-open-case index refuses is a clear error."""

    def audit(self, at, actor, action, case_id, staff_id, detail) -> None:
        audit(self.conn, at, actor, action, case_id, staff_id=staff_id, **detail)

    def other_open_case(self, user_id: int, case_id: int) -> int | None:
        return other_open_case(self.conn, user_id, case_id)

    def update_case(self, case_id: int, values: dict, expect: dict | None = None) -> bool:
        try:
            return super().update_case(case_id, values, expect)
        except IntegrityError as exc:  # the bot opened a new case for this person just now
            raise CaseError("other_open", other=None) from exc


# the console's case actions: the rules of hotline/cases.py on this connection; replies as Telegram HTML
CASE_TEXT = TelegramCaseText()


def claim(conn: Connection, case_id: int, staff: Staff, now: datetime) -> bool:
    return rules.claim(ConsoleCases(conn), case_id, staff, now)


def takeover(conn: Connection, case_id: int, staff: Staff, expected: int | None, now: datetime) -> None:
    rules.takeover(ConsoleCases(conn), case_id, staff, expected, now)


def assign(conn: Connection, case_id: int, target_id: int, by: Staff, now: datetime) -> None:
    rules.assign(ConsoleCases(conn), case_id, target_id, by, now)


def reply(conn: Connection, case_id: int, staff: Staff, text: str, now: datetime,
          case_text: rules.CaseText | None = None) -> int:
    return rules.reply(ConsoleCases(conn), case_id, staff, text, now, case_text or CASE_TEXT)


def add_note(conn: Connection, case_id: int, staff: Staff, text: str, now: datetime) -> int:
    return rules.add_note(ConsoleCases(conn), case_id, staff, text, now)


def set_status(conn: Connection, case_id: int, staff: Staff, status: str, now: datetime) -> None:
    rules.set_status(ConsoleCases(conn), case_id, staff, status, now)


def resolve(conn: Connection, case_id: int, staff: Staff, outcome: str, now: datetime) -> None:
    rules.resolve(ConsoleCases(conn), case_id, staff, now, outcome)


def reopen(conn: Connection, case_id: int, staff: Staff, now: datetime) -> None:
    rules.reopen(ConsoleCases(conn), case_id, staff, now)


# -- canned replies -----------------------------------------------------------------------------------------

SEED_CANNED = [
    ("en", "Acknowledge", "Thank you for writing. A counsellor is reading your message now."),
    ("en", "Are you safe?", "Are you safe right now? You can answer with a short yes or no."),
    ("en", "More about the offer", "Can you tell us a little more about the offer: who made it, for which "
                                   "country, and what you were asked to pay?"),
    ("en", "Closing", "Thank you for talking to us. You can write here again at any time."),
    ("ur", "پیغام ملنے کی تصدیق", "لکھنے کا شکریہ۔ ہماری ٹیم کا ایک رکن ابھی آپ کا پیغام پڑھ رہا ہے۔"),
    ("ur", "کیا آپ محفوظ ہیں؟", "کیا آپ اس وقت محفوظ ہیں؟ آپ مختصر طور پر ہاں یا نہیں میں جواب دے سکتے ہیں۔"),
    ("ur", "آفر کی مزید تفصیل", "کیا آپ اس آفر کے بارے میں کچھ اور بتا سکتے ہیں: یہ آفر کس نے دی، کس ملک کے لیے، "
                             "اور آپ سے کتنے پیسے مانگے گئے؟"),
    ("ur", "اختتام", "ہم سے بات کرنے کا شکریہ۔ آپ کسی بھی وقت یہاں دوبارہ لکھ سکتے ہیں۔"),
    ("ur-Latn", "Paighaam mil gaya", "Likhne ka shukriya. Hamari team ka aik rukn abhi aap ka paighaam parh raha hai."),
    ("ur-Latn", "Kya aap mehfooz hain?", "Kya aap is waqt mehfooz hain? Aap mukhtasar haan ya nahin mein jawab de sakte hain."),
    ("ur-Latn", "Offer ki mazeed tafseel", "Kya aap is offer ke baare mein kuch aur bata sakte hain: yeh offer kis ne "
                                          "di, kis mulk ke liye, aur aap se kitne paise maange gaye?"),
    ("ur-Latn", "Ikhtitaam", "Hum se baat karne ka shukriya. Aap kisi bhi waqt yahan dobara likh sakte hain."),
]


def seed_canned_replies(engine: Engine, now: datetime | None = None) -> int:
    """A few generic canned replies in each language when there are none yet. Returns how many were added."""
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(canned)).scalar_one():
            return 0
        conn.execute(insert(canned), [{"language": lang, "title": title, "text": text, "updated_at": now}
                                      for lang, title, text in SEED_CANNED])
        audit(conn, now, "system", "canned_seed", count=len(SEED_CANNED))
    return len(SEED_CANNED)


def list_canned(conn: Connection, language: str | None = None) -> list[dict]:
    query = select(canned).order_by(canned.c.language, canned.c.title, canned.c.id)
    if language:
        query = query.where(canned.c.language == language)
    return [dict(r._mapping) for r in conn.execute(query)]


def _canned_values(language: str, title: str, text: str) -> dict:
    title, text = (title or "").strip(), (text or "").replace("\r\n", "\n").strip()
    if language not in CANNED_LANGUAGES:
        raise CaseError("bad_language")
    if not title or not text:
        raise CaseError("empty")
    if len(title) > 128 or len(text) > MAX_REPLY:
        raise CaseError("too_long", limit=MAX_REPLY)
    return {"language": language, "title": title, "text": text}


def create_canned(conn: Connection, staff: Staff, language: str, title: str, text: str, now: datetime) -> int:
    values = _canned_values(language, title, text)
    canned_id = conn.execute(insert(canned).values(**values, updated_at=now, updated_by=staff.id)
                             ).inserted_primary_key[0]
    audit(conn, now, staff, "canned_create", canned_id=canned_id, language=language, title=values["title"])
    return canned_id


def update_canned(conn: Connection, staff: Staff, canned_id: int, language: str, title: str, text: str,
                  now: datetime) -> None:
    values = _canned_values(language, title, text)
    if conn.execute(update(canned).where(canned.c.id == canned_id)
                    .values(**values, updated_at=now, updated_by=staff.id)).rowcount != 1:
        raise NotFound(canned_id)
    audit(conn, now, staff, "canned_update", canned_id=canned_id, language=language, title=values["title"])


def delete_canned(conn: Connection, staff: Staff, canned_id: int, now: datetime) -> None:
    row = conn.execute(select(canned).where(canned.c.id == canned_id)).first()
    if row is None:
        raise NotFound(canned_id)
    conn.execute(delete(canned).where(canned.c.id == canned_id))
    audit(conn, now, staff, "canned_delete", canned_id=canned_id, language=row.language, title=row.title)
