"""One conversation turn's storage: the state and the open case read (load), then the turn's writes in
one transaction (run_turn with a TurnWrites): the inbox mark, the state (over the version it loaded),
the user, the messages and the outbox rows; the case through storage/cases.py. What the turn writes is
decided by the conversation service and the case rules (hotline/turn.py, hotline/cases.py): this module
only stores.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, TypeVar

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from . import learning_store
from .cases import SqlCaseRepository
from .db import CaseRow, ConversationRow, MessageRow, UserRow
from .inbox import I_INBOX, S_INBOX_STATUS, U_INBOX_DONE_IF_NEW
from .outbox import I_OUTBOX, OutboxItem

log = logging.getLogger("safesafar.hotline")
USERS, CASES, MESSAGES = UserRow.__table__, CaseRow.__table__, MessageRow.__table__
STATE = ConversationRow.__table__
STATE_FIELDS = ("language", "language_chosen", "flow", "last_topic", "misses", "data")
_p = bindparam
T = TypeVar("T")

S_STATE = select(STATE).where(STATE.c.user_key == _p("key"))
U_STATE = update(STATE).where(STATE.c.user_key == _p("b_key")).values(
    language=_p("b_language"), language_chosen=_p("b_chosen"), flow=_p("b_flow", type_=STATE.c.flow.type),
    last_topic=_p("b_topic"), misses=_p("b_misses"), data=_p("b_data", type_=STATE.c.data.type), updated_at=_p("b_now"),
    version=STATE.c.version + 1)
# the state stored only if it is still the version the turn loaded (else another turn came first)
U_STATE_IF_VERSION = U_STATE.where(STATE.c.version == _p("b_version"))
I_STATE = insert(STATE)
S_OPEN_CASE_OF = (select(CASES.c.id, CASES.c.priority, CASES.c.status).join(USERS, USERS.c.id == CASES.c.user_id)
                  .where(USERS.c.channel == _p("ch"), USERS.c.external_id == _p("ext"), CASES.c.status != "resolved"))
# a known user: touched and found in one statement
U_USER_RETURNING_ID = (update(USERS).where(USERS.c.channel == _p("b_ch"), USERS.c.external_id == _p("b_ext"))
                       .values(language=_p("b_language"), last_seen_at=_p("b_now"),
                               chat_id=func.coalesce(_p("b_chat"), USERS.c.chat_id))
                       .returning(USERS.c.id))
I_MESSAGES = insert(MESSAGES)


@dataclass
class OpenCase:
    id: int
    priority: str
    status: str


@dataclass
class Stored:
    """What load() found: the stored state's fields (None: none stored), its version and the open case."""
    done: bool  # this update was processed already
    state: dict | None
    case: OpenCase | None
    version: int = 0  # the stored state's version (0: none stored); save_state stores only over this one
    waiting: bool = False  # an earlier update of this user is not done: nothing loaded, try again later


class TurnConflict(Exception):
    """The turn cannot be stored as it was computed: another turn stored this user's state since it was
    loaded, or an earlier update of the user is not done yet. Nothing was written: load and run it again."""


@dataclass
class Inbound:
    """What arrived: the channel's ids, the message, and the update id for the inbox."""
    channel: str
    external_id: str
    chat_id: str | None
    kind: str  # text | command | button | media
    text: str = ""
    meta: dict = field(default_factory=dict)
    source: str | None = None  # the inbox's source, e.g. "tg"
    update_id: int | None = None
    names: tuple[str, ...] = ()  # the user's names on the channel: never stored, only redacted (learning inbox)

    @property
    def user_key(self) -> str:
        return f"{self.channel}:{self.external_id}"


class TurnStore:
    """The turn's part of HotlineStore (hotline_store.py): uses its engine and clock, and the inbox's
    _earlier_new."""

    def language_of(self, user_key: str) -> str | None:
        with self.engine.connect().execution_options(read_only=True) as conn:
            return conn.execute(select(STATE.c.language).where(STATE.c.user_key == user_key)).scalar()

    # -- one turn (SQLAlchemy Core: this runs for every message) ---------------------------------
    def load(self, inbound: Inbound) -> Stored:
        with self.engine.connect().execution_options(read_only=True) as conn:
            if inbound.update_id is not None and inbound.source:
                status = conn.execute(S_INBOX_STATUS, {"src": inbound.source, "uid": inbound.update_id}).scalar()
                if status == "done":
                    return Stored(True, None, None)
                if self._earlier_new(conn, inbound):
                    return Stored(False, None, None, waiting=True)
            row = conn.execute(S_STATE, {"key": inbound.user_key}).mappings().first()
            state, version = None, 0
            if row is not None:
                state = {name: row[name] for name in STATE_FIELDS}
                state["language_chosen"] = bool(state["language_chosen"])
                state["misses"] = state["misses"] or 0
                state["data"] = dict(state["data"] or {})
                version = row["version"]
            case = conn.execute(S_OPEN_CASE_OF, {"ch": inbound.channel, "ext": inbound.external_id}).first()
            return Stored(False, state, OpenCase(*case) if case else None, version=version)

    def run_turn(self, write: Callable[["TurnWrites"], T]) -> T:
        """write(writes) in one transaction. Run again (up to three times) when another worker opened
        this user's case or stored this turn at the same moment (a unique index refused a row): the
        second run joins that case or finds the update done."""
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    return write(TurnWrites(self, conn))
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class TurnWrites:
    """The writes of one turn, in its transaction; `cases` is the case repository on the same one."""

    def __init__(self, store: TurnStore, conn: Connection):
        self.store, self.conn = store, conn
        self.cases = SqlCaseRepository(conn, lock=store.postgres)

    def mark_done(self, inbound: Inbound, now: datetime) -> bool:
        """Marks the inbound's update done (first: a second worker with the same update waits on this
        row lock, then finds it done). False: it was done already, store nothing. TurnConflict: an
        earlier update of the user is not done."""
        if inbound.update_id is None or not inbound.source:
            return True
        conn = self.conn
        marked = conn.execute(U_INBOX_DONE_IF_NEW, {"b_src": inbound.source, "b_uid": inbound.update_id,
                                                    "b_now": now}).rowcount
        if marked == 0:
            if conn.execute(S_INBOX_STATUS, {"src": inbound.source, "uid": inbound.update_id}).scalar() == "done":
                return False
            conn.execute(I_INBOX, {"source": inbound.source, "update_id": inbound.update_id, "payload": {},
                                   "status": "done", "attempts": 0, "received_at": now, "done_at": now})
        if self.store._earlier_new(conn, inbound):
            raise TurnConflict("an earlier update of this user is not done")
        return True

    def save_state(self, user_key: str, state: dict, version: int | None, now: datetime) -> None:
        """The state's fields over `version` (0: none stored yet; None: whatever is stored), or
        TurnConflict. Its row lock (PostgreSQL; SQLite's write lock is taken at BEGIN) serialises the
        user's turns. An erased state is stored too (erase() deletes it later in the transaction): the
        version check holds for /delete_me as for every turn."""
        flow = dict(state["flow"]) if state.get("flow") else None
        values = {"b_key": user_key, "b_language": state.get("language"), "b_chosen": state.get("language_chosen"),
                  "b_flow": flow, "b_topic": state.get("last_topic"), "b_misses": state.get("misses"),
                  "b_data": dict(state.get("data") or {}), "b_now": now}
        if version:
            if self.conn.execute(U_STATE_IF_VERSION, {**values, "b_version": version}).rowcount == 0:
                raise TurnConflict("the state was stored by another turn since it was loaded")
            return
        if version is None and self.conn.execute(U_STATE, values).rowcount == 1:
            return
        try:
            with self.conn.begin_nested():  # another turn may have stored this user's first state meanwhile
                self.conn.execute(I_STATE, {"user_key": user_key, "language": values["b_language"],
                                            "language_chosen": values["b_chosen"], "flow": flow,
                                            "last_topic": values["b_topic"], "misses": values["b_misses"],
                                            "data": values["b_data"], "updated_at": now, "version": 1})
        except IntegrityError as error:
            raise TurnConflict("the state was stored by another turn since it was loaded") from error

    def user(self, inbound: Inbound, language: str, now: datetime) -> int:
        """The user's id, the user touched (language, last seen, chat) or created."""
        user_id = self.conn.execute(U_USER_RETURNING_ID, {"b_ch": inbound.channel, "b_ext": inbound.external_id,
                                                          "b_language": language, "b_now": now,
                                                          "b_chat": inbound.chat_id or None}).scalar()
        if user_id is None:
            user_id = self.conn.execute(insert(USERS).values(
                channel=inbound.channel, external_id=inbound.external_id, chat_id=inbound.chat_id,
                language=language, created_at=now, last_seen_at=now).returning(USERS.c.id)).scalar_one()
        return user_id

    def erase(self, inbound: Inbound, user_id: int) -> None:
        """The state and every message not part of a hotline case; the user unless they have a case."""
        conn = self.conn
        conn.execute(delete(STATE).where(STATE.c.user_key == inbound.user_key))
        conn.execute(delete(MESSAGES).where(MESSAGES.c.user_id == user_id, MESSAGES.c.case_id.is_(None)))
        if conn.execute(select(CASES.c.id).where(CASES.c.user_id == user_id).limit(1)).first() is None:
            conn.execute(delete(USERS).where(USERS.c.id == user_id))

    def add_messages(self, rows: list[dict]) -> None:
        if rows:
            self.conn.execute(I_MESSAGES, rows)

    def staff_names(self) -> list[str]:
        return learning_store.staff_names(self.conn)

    def learning_item(self, row: dict, now: datetime) -> str:
        """A misunderstood message for the learning inbox (redacted by the caller)."""
        return learning_store.add_item(self.conn, row, now)

    def answer_feedback(self, topic: str, language: str, vote: str, now: datetime) -> None:
        learning_store.add_feedback(self.conn, topic, language, vote, now)

    def add_outbox(self, rows: list[dict]) -> list[OutboxItem]:
        """One INSERT ... RETURNING a row (one or two rows a turn)."""
        return [OutboxItem(self.conn.execute(I_OUTBOX, row).scalar_one(), row["kind"], row["chat_id"], row["payload"])
                for row in rows]
