"""Storing the OEP register: an import is staged with its preview (pending), then applied or discarded,
each in one transaction; the newest applied snapshot with agencies is the register the bot checks.
The command line (`safesafar register import`) and the console's import page both go through here."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from ..register.diff import Diff, NoticeLink, diff, link_notices
from ..register.match import Register
from ..register.parse import Agency, Notice, Parsed, RowError
from .db import AuditRow, RegisterAgencyRow, RegisterImportRow, RegisterNoticeRow

IMPORTS = RegisterImportRow.__table__
AGENCIES = RegisterAgencyRow.__table__
NOTICES = RegisterNoticeRow.__table__
AUDIT = AuditRow.__table__
_AGENCY_FIELDS = ("licence", "title", "proprietor", "status", "raw_status", "expiry", "head_office", "branches")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ImportRefused(Exception):
    """The files had problems (rows named), or the import can no longer be applied."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.errors = errors or []


@dataclass
class Staged:
    import_id: int
    register_date: date | None
    diff: Diff
    links: list[NoticeLink] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    agencies: int = 0


# -- reading -------------------------------------------------------------------------------------------------

def current_import(conn: Connection) -> int | None:
    return conn.execute(select(func.max(IMPORTS.c.id)).where(IMPORTS.c.status == "applied",
                                                            IMPORTS.c.agencies > 0)).scalar()


def agencies_of(conn: Connection, import_id: int) -> list[Agency]:
    rows = conn.execute(select(*[AGENCIES.c[f] for f in _AGENCY_FIELDS]).where(AGENCIES.c.import_id == import_id)
                        .order_by(AGENCIES.c.licence)).all()
    return [Agency(**row._mapping) for row in rows]


def applied_notices(conn: Connection) -> list[Notice]:
    rows = conn.execute(select(NOTICES.c.title, NOTICES.c.day, NOTICES.c.body, NOTICES.c.kind, NOTICES.c.licence)
                        .join(IMPORTS, IMPORTS.c.id == NOTICES.c.import_id)
                        .where(IMPORTS.c.status == "applied", NOTICES.c.licence.is_not(None))
                        .order_by(NOTICES.c.day, NOTICES.c.id)).all()
    return [Notice(title=r.title, day=r.day, body=r.body, kind=r.kind, licences=[r.licence]) for r in rows]


def load_register(conn: Connection, today: date | None = None) -> Register | None:
    """The register the bot checks, or None when nothing was imported yet."""
    import_id = current_import(conn)
    if import_id is None:
        return None
    head = conn.execute(select(IMPORTS.c.register_date, IMPORTS.c.files).where(IMPORTS.c.id == import_id)).one()
    return Register(agencies_of(conn, import_id), head.register_date, applied_notices(conn), today=today,
                    source=", ".join(head.files or []), import_id=import_id)


def history(conn: Connection, limit: int = 30) -> list[dict]:
    rows = conn.execute(select(IMPORTS).order_by(IMPORTS.c.id.desc()).limit(limit)).all()
    return [dict(row._mapping) for row in rows]


def get_import(conn: Connection, import_id: int) -> dict | None:
    row = conn.execute(select(IMPORTS).where(IMPORTS.c.id == import_id)).first()
    return dict(row._mapping) if row else None


def pending_links(conn: Connection, import_id: int) -> list[dict]:
    """The notices of an import with the agency each is (or may be) linked to."""
    rows = conn.execute(select(NOTICES).where(NOTICES.c.import_id == import_id).order_by(NOTICES.c.id)).all()
    return [dict(row._mapping) for row in rows]


# -- staging, applying, discarding ---------------------------------------------------------------------------

def stage(engine: Engine, parsed: Parsed, register_date: date | None, actor: str,
          now: datetime | None = None, today: date | None = None) -> Staged:
    """Stores the parsed files as a pending import and returns its preview. Refuses (nothing stored) a
    set of files with any problem."""
    if parsed.errors:
        raise ImportRefused(f"{len(parsed.errors)} problem(s) in the files: nothing was imported", parsed.errors)
    if not parsed.agencies and not parsed.notices:
        raise ImportRefused("the files hold no agencies and no notices: nothing was imported")
    now = now or utcnow()
    with engine.begin() as conn:
        base = current_import(conn)
        previous = {a.licence: a.as_row() for a in agencies_of(conn, base)} if base else {}
        result = diff(previous, parsed.agencies) if parsed.agencies else Diff()
        if parsed.agencies:
            against = Register(parsed.agencies, register_date, today=today)
        else:
            against = load_register(conn, today) or Register([], None, today=today)
        links = link_notices(parsed.notices, against)
        counts = {**result.counts(), "notices": len(links)}
        import_id = conn.execute(insert(IMPORTS).values(
            status="pending", register_date=register_date if parsed.agencies else None,
            agencies=len(parsed.agencies), base_import_id=base, files=list(parsed.files), counts=counts,
            created_by=actor, created_at=now).returning(IMPORTS.c.id)).scalar_one()
        if parsed.agencies:
            conn.execute(insert(AGENCIES), [{"import_id": import_id, **a.as_row()} for a in parsed.agencies])
        if links:
            conn.execute(insert(NOTICES), [{
                "import_id": import_id, "day": link.notice.day, "title": link.notice.title[:500],
                "body": link.notice.body, "kind": link.notice.kind,
                "licence": link.licence if link.by == "licence" else None,
                "linked_by": "licence" if link.by == "licence" else None,
                "candidate": link.licence if link.by == "name" else None,
                "score": link.score or None} for link in links])
    return Staged(import_id, register_date, result, links, list(parsed.files), len(parsed.agencies))


def apply(engine: Engine, import_id: int, actor: str, accept_names: set[int] | None = None,
          now: datetime | None = None, staff_id: int | None = None) -> dict:
    """Applies a pending import: its snapshot becomes the register. accept_names: the notices (row ids)
    whose name match a person confirmed; other name matches stay unlinked. Refused when the import is
    not pending or the register changed since its preview."""
    now = now or utcnow()
    with engine.begin() as conn:
        row = conn.execute(select(IMPORTS).where(IMPORTS.c.id == import_id)).first()
        if row is None or row.status != "pending":
            raise ImportRefused("this import is not waiting for a decision (applied or discarded already)")
        if row.agencies and current_import(conn) != row.base_import_id:
            raise ImportRefused("the register changed since this preview was made: import the files again")
        for notice_id in accept_names or ():
            conn.execute(update(NOTICES).where(NOTICES.c.id == notice_id, NOTICES.c.import_id == import_id,
                                               NOTICES.c.candidate.is_not(None))
                         .values(licence=NOTICES.c.candidate, linked_by="name"))
        done = conn.execute(update(IMPORTS).where(IMPORTS.c.id == import_id, IMPORTS.c.status == "pending")
                            .values(status="applied", decided_by=actor, decided_at=now)).rowcount
        if done != 1:
            raise ImportRefused("this import is not waiting for a decision (applied or discarded already)")
        linked = conn.execute(select(func.count()).select_from(NOTICES).where(
            NOTICES.c.import_id == import_id, NOTICES.c.licence.is_not(None))).scalar_one()
        detail = {"import": import_id, "register_date": row.register_date.isoformat() if row.register_date else None,
                  "files": row.files, **(row.counts or {}), "notices_linked": linked}
        conn.execute(insert(AUDIT).values(at=now, staff_id=staff_id, actor=actor, action="register_import",
                                          case_id=None, detail=detail))
    return detail


def discard(engine: Engine, import_id: int, actor: str, now: datetime | None = None,
            staff_id: int | None = None) -> bool:
    """Drops a pending import's rows; the import stays in the history as discarded."""
    now = now or utcnow()
    with engine.begin() as conn:
        done = conn.execute(update(IMPORTS).where(IMPORTS.c.id == import_id, IMPORTS.c.status == "pending")
                            .values(status="discarded", decided_by=actor, decided_at=now)).rowcount
        if not done:
            return False
        conn.execute(delete(AGENCIES).where(AGENCIES.c.import_id == import_id))
        conn.execute(delete(NOTICES).where(NOTICES.c.import_id == import_id))
        conn.execute(insert(AUDIT).values(at=now, staff_id=staff_id, actor=actor, action="register_discard",
                                          case_id=None, detail={"import": import_id}))
    return True


# -- what the bot reads --------------------------------------------------------------------------------------

class RegisterSource:
    """The register for the dialogue (its `get()` port). Loaded at the first `get()`; then, at most every
    `interval` seconds, a background thread asks whether an import was applied (or the day changed:
    expiry dates) and builds the new index, which replaces the old one when ready: a turn never waits
    for a load. background=False refreshes in the caller instead (tests)."""

    def __init__(self, engine: Engine, interval: float = 10.0, today: Callable[[], date] = date.today,
                 background: bool = True):
        self.engine, self.interval, self.today, self.background = engine, interval, today, background
        self._register: Register | None = None
        self._stamp: tuple | None = None
        self._checked: float | None = None
        self._lock = threading.Lock()
        self._refreshing = False

    def get(self) -> Register | None:
        now = time.monotonic()
        if self._checked is None:
            self.refresh()
        elif now - self._checked >= self.interval and not self._refreshing:
            self._checked = now
            if self.background:
                self._refreshing = True
                threading.Thread(target=self._refresh_in_background, name="register-refresh", daemon=True).start()
            else:
                self.refresh()
        return self._register

    def _refresh_in_background(self) -> None:
        try:
            self.refresh()
        except Exception:  # the database away for a moment: the last register stays, the next check retries
            logging.getLogger("safesafar.register").exception("register refresh failed")
        finally:
            self._refreshing = False

    def refresh(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            with self.engine.connect() as conn:
                import_id = current_import(conn)
                notices = conn.execute(select(func.count()).select_from(NOTICES).join(
                    IMPORTS, IMPORTS.c.id == NOTICES.c.import_id).where(IMPORTS.c.status == "applied")).scalar_one()
                today = self.today()
                stamp = (import_id, notices, today)
                if stamp != self._stamp:
                    self._register = load_register(conn, today) if import_id is not None else None
                    self._stamp = stamp


def preview(conn: Connection, import_id: int, today: date | None = None) -> tuple[dict, Diff, list[dict]] | None:
    """An import as its preview page shows it: the import, what it changes against the snapshot it was
    compared with, its notices (with the name matches to confirm)."""
    head = get_import(conn, import_id)
    if head is None:
        return None
    if head["agencies"]:
        previous = ({a.licence: a.as_row() for a in agencies_of(conn, head["base_import_id"])}
                    if head["base_import_id"] else {})
        result = diff(previous, agencies_of(conn, import_id)) if head["status"] != "discarded" else Diff()
    else:
        result = Diff()
    links = pending_links(conn, import_id)
    wanted = {n["candidate"] or n["licence"] for n in links} - {None}
    if wanted:  # the agency's name beside each link, from this snapshot or else the register's
        source = import_id if head["agencies"] else current_import(conn)
        names = dict(conn.execute(select(AGENCIES.c.licence, AGENCIES.c.title).where(
            AGENCIES.c.import_id == source, AGENCIES.c.licence.in_(wanted))).all()) if source else {}
        for n in links:
            n["agency"] = names.get(n["candidate"] or n["licence"], "")
    return head, result, links
