"""Cases in SQL, inside the caller's transaction: the CaseRepository the case rules
(hotline/cases.py) run on. It finds, inserts, and applies conditional updates; it decides nothing.
`update_case` is one UPDATE ... WHERE with the caller's conditions, checked by its row count, so two
people (or the bot and a person) acting at once on SQLite or PostgreSQL never both win."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from .db import AuditRow, CaseRow, MessageRow, NoteRow, OutboxRow, StaffRow, UserRow

CASES, USERS, MESSAGES = CaseRow.__table__, UserRow.__table__, MessageRow.__table__
NOTES, OUTBOX, AUDIT, STAFF = NoteRow.__table__, OutboxRow.__table__, AuditRow.__table__, StaffRow.__table__
_p = bindparam

S_OPEN_CASE = select(CASES).where(CASES.c.user_id == _p("uid"), CASES.c.status != "resolved")
S_OPEN_CASE_FOR_UPDATE = S_OPEN_CASE.with_for_update(of=CASES)
_assignee = STAFF.alias("assignee")
CASE_COLUMNS = [CASES, _assignee.c.username.label("assignee_username"),
                _assignee.c.display_name.label("assignee_name")]


def case_select():
    """A case with its assignee's username and name."""
    return select(*CASE_COLUMNS).select_from(CASES.outerjoin(_assignee, CASES.c.assigned_to == _assignee.c.id))


def _condition(column, expected):
    """hotline.cases' conditions: OneOf(values), Not(value), or a value (None: IS NULL)."""
    kind = type(expected).__name__
    if kind == "OneOf":
        return column.in_(expected.values)
    if kind == "Not":
        return column.is_not(None) if expected.value is None else column != expected.value
    return column.is_(None) if expected is None else column == expected


class SqlCaseRepository:
    def __init__(self, conn: Connection, lock: bool | None = None):
        """lock: the user's open case is locked for the transaction (PostgreSQL; SQLite's write lock
        covers it). None: where the database can."""
        self.conn = conn
        lock = conn.dialect.name == "postgresql" if lock is None else lock
        self._s_open_case = S_OPEN_CASE_FOR_UPDATE if lock else S_OPEN_CASE

    def open_case_of_user(self, user_id: int) -> dict | None:
        row = self.conn.execute(self._s_open_case, {"uid": user_id}).mappings().first()
        return dict(row) if row else None

    def get_case(self, case_id: int) -> dict | None:
        row = self.conn.execute(case_select().where(CASES.c.id == case_id)).first()
        return dict(row._mapping) if row else None

    def recent_messages(self, user_id: int, since: datetime, limit: int) -> list[dict]:
        rows = self.conn.execute(select(MESSAGES.c.direction, MESSAGES.c.kind, MESSAGES.c.text, MESSAGES.c.meta,
                                        MESSAGES.c.created_at)
                                 .where(MESSAGES.c.user_id == user_id, MESSAGES.c.created_at >= since)
                                 .order_by(MESSAGES.c.id.desc()).limit(limit)).mappings().all()
        return [dict(row) for row in reversed(rows)]

    def insert_case(self, values: dict) -> int:
        with self.conn.begin_nested():  # the partial unique index refuses a second open case of this user
            return self.conn.execute(insert(CASES).values(**values).returning(CASES.c.id)).scalar_one()

    def update_case(self, case_id: int, values: dict, expect: dict | None = None) -> bool:
        conditions = [_condition(CASES.c[name], value) for name, value in (expect or {}).items()]
        return self.conn.execute(update(CASES).where(CASES.c.id == case_id, *conditions)
                                 .values(version=CASES.c.version + 1, **values)).rowcount == 1

    def add_message(self, values: dict) -> int:
        return self.conn.execute(insert(MESSAGES).values(**values)).inserted_primary_key[0]

    def add_note(self, values: dict) -> int:
        return self.conn.execute(insert(NOTES).values(**values)).inserted_primary_key[0]

    def add_outbox(self, values: dict) -> int:
        return self.conn.execute(insert(OUTBOX).values(**values)).inserted_primary_key[0]

    def audit(self, at: datetime, actor: str, action: str, case_id: int | None, staff_id: int | None,
              detail: dict) -> None:
        self.conn.execute(insert(AUDIT).values(at=at, staff_id=staff_id, actor=actor[:64], action=action,
                                               case_id=case_id, detail=detail))

    def staff(self, staff_id: int):
        return self.conn.execute(select(STAFF).where(STAFF.c.id == staff_id)).first()

    def staff_by_telegram(self, telegram_id: str):
        return self.conn.execute(select(STAFF).where(STAFF.c.telegram_id == telegram_id,
                                                     STAFF.c.active.is_(True))).first()

    def chat_id(self, user_id: int) -> str | None:
        return self.conn.execute(select(USERS.c.chat_id).where(USERS.c.id == user_id)).scalar()

    def other_open_case(self, user_id: int, case_id: int) -> int | None:
        return self.conn.execute(select(CASES.c.id).where(CASES.c.user_id == user_id, CASES.c.id != case_id,
                                                          CASES.c.status != "resolved")).scalar()

    def open_counts(self) -> dict[str, int]:
        """Open cases by priority."""
        return dict(self.conn.execute(select(CASES.c.priority, func.count()).where(CASES.c.status != "resolved")
                                      .group_by(CASES.c.priority)).all())

    def first_in_queue(self, limit: int) -> list[dict]:
        """The open cases in the queue's order: urgent first, then the oldest."""
        rows = self.conn.execute(select(CASES).where(CASES.c.status != "resolved")
                                 .order_by(CASES.c.priority_rank, CASES.c.created_at).limit(limit)).mappings()
        return [dict(row) for row in rows]
