"""One conversation turn's storage: the state and the open case read (load), then everything the turn
causes in one transaction (commit_turn): the inbox mark, the state (over the version it loaded), the
user, the case, the messages, the outbox rows (replies, staff alert) and the audit rows.

Every write that a user or the hotline must not lose happens inside `commit_turn`'s single transaction:
the case is committed before the user is told it was received (the acknowledgement is an outbox row of
that same transaction).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..dialogue.state import ConversationState
from ..hotline.policy import ALERTED, PRIORITY_RANK, alert_html, fired_of, merge_entities, summary
from .db import AuditRow, CaseRow, ConversationRow, MessageRow, UserRow
from .inbox import I_INBOX, S_INBOX_STATUS, U_INBOX_DONE_IF_NEW
from .outbox import I_OUTBOX, OutboxItem

log = logging.getLogger("safesafar.hotline")
USERS, CASES, MESSAGES = UserRow.__table__, CaseRow.__table__, MessageRow.__table__
STATE, AUDIT = ConversationRow.__table__, AuditRow.__table__
_p = bindparam

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
S_OPEN_CASE = select(CASES).where(CASES.c.user_id == _p("uid"), CASES.c.status != "resolved")
S_OPEN_CASE_FOR_UPDATE = S_OPEN_CASE.with_for_update(of=CASES)
I_MESSAGES = insert(MESSAGES)
TRANSCRIPT_MESSAGES = 30  # how much of the conversation before a case opens is copied into it
TRANSCRIPT_DAYS = 7


@dataclass
class OpenCase:
    id: int
    priority: str
    status: str


@dataclass
class Loaded:
    done: bool  # this update was processed already
    state: ConversationState
    case: OpenCase | None
    version: int = 0  # the stored state's version (0: none stored); commit_turn stores only over this one
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

    @property
    def user_key(self) -> str:
        return f"{self.channel}:{self.external_id}"


@dataclass
class Escalation:
    priority: str  # urgent | high | normal
    reason: str
    report: dict | None = None
    offer_check: dict | None = None
    fired_by: str | None = None  # what made it urgent: danger phrases, the classifier's probability
    fired_brief: str | None = None  # the same without the phrases, for the summary (the staff group sees it)


@dataclass
class CaseOutcome:
    """What happened to the case in this turn, for the acknowledgement."""
    case_id: int
    priority: str
    opened: bool = False  # a new case
    raised: bool = False  # the open case got a higher priority
    joined: bool = False  # the message went into an already open case


@dataclass
class TurnRecord:
    inbound: Inbound
    state: ConversationState
    language: str
    replies: list  # dialogue Reply objects (text, buttons, rtl)
    in_meta: dict = field(default_factory=dict)  # intent, confidence, entities of the inbound message
    entities: list = field(default_factory=list)
    escalation: Escalation | None = None
    durable_replies: bool = True  # replies go through the outbox (Telegram); the terminal prints them
    claim_as: str | None = None  # the outbox rows are written already claimed by this worker (delivered at once)
    lease_seconds: float = 60.0
    version: int | None = None  # Loaded.version: the state is stored only over it (None: unconditionally)


def _reply_payload(reply) -> dict:
    return {"text": reply.text, "rtl": bool(reply.rtl),
            "buttons": [[[b.label, b.payload] for b in row] for row in reply.buttons]}


class TurnStore:
    """The turn's part of HotlineStore (hotline_store.py): uses its engine, clock, staff_chat_id,
    console_url and s_open_case, and the inbox's _earlier_new."""

    def language_of(self, user_key: str) -> str | None:
        with self.engine.connect().execution_options(read_only=True) as conn:
            return conn.execute(select(STATE.c.language).where(STATE.c.user_key == user_key)).scalar()

    # -- one turn (SQLAlchemy Core: this runs for every message) ---------------------------------
    def load(self, inbound: Inbound) -> Loaded:
        with self.engine.connect().execution_options(read_only=True) as conn:
            if inbound.update_id is not None and inbound.source:
                status = conn.execute(S_INBOX_STATUS, {"src": inbound.source, "uid": inbound.update_id}).scalar()
                if status == "done":
                    return Loaded(True, ConversationState(inbound.user_key), None)
                if self._earlier_new(conn, inbound):
                    return Loaded(False, ConversationState(inbound.user_key), None, waiting=True)
            row = conn.execute(S_STATE, {"key": inbound.user_key}).mappings().first()
            version = 0
            if row is None:
                state = ConversationState(inbound.user_key)
            else:
                state = ConversationState(user=row["user_key"], language=row["language"],
                                          language_chosen=bool(row["language_chosen"]), flow=row["flow"],
                                          last_topic=row["last_topic"], misses=row["misses"] or 0,
                                          data=dict(row["data"] or {}))
                version = row["version"]
            case = conn.execute(S_OPEN_CASE_OF, {"ch": inbound.channel, "ext": inbound.external_id}).first()
            return Loaded(False, state, OpenCase(*case) if case else None, version=version)

    def commit_turn(self, record: TurnRecord,
                    acknowledge: Callable[[CaseOutcome | None, bool], list]) -> list[OutboxItem]:
        """Stores the turn in one transaction and returns the outbox rows to deliver now.
        `acknowledge(outcome, erased_with_case)` gives the replies that tell the user what happened to
        their case (its number exists only here, inside the transaction). Raises TurnConflict (nothing
        stored) when the user's state is no longer `record.version` or an earlier update of the user is
        not done yet."""
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    return self._commit_turn(conn, record, acknowledge)
            except IntegrityError:
                # another worker opened this user's case or stored this turn at the same moment:
                # run again, which joins that case or finds the update done
                if attempt == 2:
                    raise
        return []

    def _commit_turn(self, conn: Connection, record: TurnRecord, acknowledge) -> list[OutboxItem]:
        now = self.clock()
        inbound = record.inbound
        if inbound.update_id is not None and inbound.source:
            # first, so that a second worker with the same update waits on this row lock, then finds it done
            marked = conn.execute(U_INBOX_DONE_IF_NEW, {"b_src": inbound.source, "b_uid": inbound.update_id,
                                                        "b_now": now}).rowcount
            if marked == 0:
                if conn.execute(S_INBOX_STATUS, {"src": inbound.source, "uid": inbound.update_id}).scalar() == "done":
                    return []
                conn.execute(I_INBOX, {"source": inbound.source, "update_id": inbound.update_id, "payload": {},
                                       "status": "done", "attempts": 0, "received_at": now, "done_at": now})
            if self._earlier_new(conn, inbound):
                raise TurnConflict("an earlier update of this user is not done")
        # the user's state first: its row lock (PostgreSQL; SQLite's write lock is taken at BEGIN) serialises
        # the user's turns, and the version check refuses a turn computed from a state stored over since
        self._save_state(conn, record.state, record.version, now)
        user_id = conn.execute(U_USER_RETURNING_ID, {"b_ch": inbound.channel, "b_ext": inbound.external_id,
                                                     "b_language": record.language, "b_now": now,
                                                     "b_chat": inbound.chat_id or None}).scalar()
        if user_id is None:
            user_id = conn.execute(insert(USERS).values(
                channel=inbound.channel, external_id=inbound.external_id, chat_id=inbound.chat_id,
                language=record.language, created_at=now, last_seen_at=now).returning(USERS.c.id)).scalar_one()

        found = conn.execute(self.s_open_case, {"uid": user_id}).mappings().first()
        case = dict(found) if found else None
        erased = bool(record.state.data.get("erased"))
        if erased:
            self._erase(conn, inbound, user_id)

        outcome: CaseOutcome | None = None
        alert: tuple[str, bool] | None = None
        esc = record.escalation
        changes: dict = {}
        if case is not None:
            outcome = CaseOutcome(case["id"], case["priority"], joined=True)
        if esc is not None:
            if case is None:
                case = self._open_case(conn, user_id, record, esc, now)
                outcome = CaseOutcome(case["id"], case["priority"], opened=True)
                alert = (case["priority"], False)
            else:
                raised = PRIORITY_RANK[esc.priority] < case["priority_rank"]
                if raised:
                    changes.update(priority=esc.priority, priority_rank=PRIORITY_RANK[esc.priority], reason=esc.reason)
                    if esc.fired_by:
                        changes["fired_by"] = esc.fired_by[:200]
                    alert = (esc.priority, True)
                    self._audit(conn, "priority_raised", case["id"], {"priority": esc.priority, "reason": esc.reason}, now)
                if esc.report:
                    changes["report"] = esc.report
                if esc.offer_check:
                    changes["offer_check"] = esc.offer_check
                case.update(changes)
                changes["summary"] = case["summary"] = summary(case["reason"], record.language, case["entities"] or {},
                                                              case["offer_check"], esc.fired_brief if raised and esc.fired_brief
                                                              else fired_of(case["summary"]))
                outcome = CaseOutcome(case["id"], case["priority"], raised=raised, joined=True)
        if case is not None and not erased and not outcome.opened:
            changes["last_user_message_at"] = now
            if case["status"] == "waiting":  # the user answered the hotline
                changes["status"] = "claimed" if case["assigned_to"] else "new"
            if record.entities:
                changes["entities"] = case["entities"] = merge_entities(case["entities"] or {}, record.entities)
        if case is not None and changes:
            conn.execute(update(CASES).where(CASES.c.id == case["id"])
                         .values(updated_at=now, version=CASES.c.version + 1, **changes))

        replies = list(record.replies) + list(acknowledge(outcome, erased and case is not None))
        case_id = case["id"] if case is not None else None
        messages: list[dict] = []
        if not erased:
            messages.append(dict(user_id=user_id, case_id=case_id, direction="in", kind=inbound.kind,
                                 text=inbound.text[:4000], meta={**inbound.meta, **record.in_meta}, created_at=now))
        claimed = ({"locked_by": record.claim_as, "locked_until": now + timedelta(seconds=record.lease_seconds),
                    "attempts": 1} if record.claim_as else {"locked_by": None, "locked_until": None, "attempts": 0})
        outbox: list[dict] = []
        for index, reply in enumerate(replies):
            if not erased:
                messages.append(dict(user_id=user_id, case_id=case_id, direction="out", kind="text", text=reply.text,
                                     meta={}, created_at=now))
            if record.durable_replies and inbound.chat_id:
                key = (f"{inbound.source}:{inbound.update_id}:{index}" if inbound.update_id is not None
                       else f"reply:{uuid.uuid4().hex}")
                outbox.append(dict(kind="reply", dedupe_key=key, chat_id=str(inbound.chat_id),
                                   payload=_reply_payload(reply), case_id=case_id, status="pending",
                                   next_attempt_at=now, created_at=now, **claimed))
        if alert is not None and case is not None:
            priority, raised = alert
            self._audit(conn, "case_opened" if not raised else "case_raised", case["id"],
                        {"priority": priority, "reason": case["reason"]}, now)
            if priority in ALERTED:
                if self.staff_chat_id:
                    outbox.append(dict(kind="staff_alert", dedupe_key=f"alert:{case['id']}:{priority}",
                                       chat_id=str(self.staff_chat_id), case_id=case["id"], status="pending",
                                       payload={"text": alert_html(case["id"], priority, case["summary"],
                                                                   self.console_url, raised), "buttons": []},
                                       next_attempt_at=now, created_at=now, **claimed))
                else:
                    log.warning("case %s (%s): no STAFF_CHAT_ID set, no staff alert", case["id"], priority)
        if messages:
            conn.execute(I_MESSAGES, messages)
        items = []
        for row in outbox:  # one or two rows: an INSERT ... RETURNING each
            items.append(OutboxItem(conn.execute(I_OUTBOX, row).scalar_one(), row["kind"], row["chat_id"],
                                    row["payload"]))
        return items

    def _save_state(self, conn: Connection, state: ConversationState, version: int | None,
                    now: datetime) -> None:
        """The state over `version` (0: none stored yet; None: whatever is stored), or TurnConflict.
        An erased state is stored too (the erasure deletes it later in the transaction): the version
        check holds for /delete_me as for every turn."""
        flow = dict(state.flow) if state.flow else None
        values = {"b_key": state.user, "b_language": state.language, "b_chosen": state.language_chosen,
                  "b_flow": flow, "b_topic": state.last_topic, "b_misses": state.misses, "b_data": dict(state.data),
                  "b_now": now}
        if version:
            if conn.execute(U_STATE_IF_VERSION, {**values, "b_version": version}).rowcount == 0:
                raise TurnConflict("the state was stored by another turn since it was loaded")
            return
        if version is None and conn.execute(U_STATE, values).rowcount == 1:
            return
        try:
            with conn.begin_nested():  # another turn may have stored this user's first state meanwhile
                conn.execute(I_STATE, {"user_key": state.user, "language": state.language,
                                       "language_chosen": state.language_chosen, "flow": flow,
                                       "last_topic": state.last_topic, "misses": state.misses,
                                       "data": dict(state.data), "updated_at": now, "version": 1})
        except IntegrityError as error:
            raise TurnConflict("the state was stored by another turn since it was loaded") from error

    def _erase(self, conn: Connection, inbound: Inbound, user_id: int) -> None:
        """/delete_me: the state and every message not part of a hotline case. Cases stay with the
        hotline until they are resolved and purged."""
        conn.execute(delete(STATE).where(STATE.c.user_key == inbound.user_key))
        conn.execute(delete(MESSAGES).where(MESSAGES.c.user_id == user_id, MESSAGES.c.case_id.is_(None)))
        if conn.execute(select(CASES.c.id).where(CASES.c.user_id == user_id).limit(1)).first() is None:
            conn.execute(delete(USERS).where(USERS.c.id == user_id))

    def _open_case(self, conn: Connection, user_id: int, record: TurnRecord, esc: Escalation, now: datetime) -> dict:
        since = now - timedelta(days=TRANSCRIPT_DAYS)
        earlier = conn.execute(select(MESSAGES.c.direction, MESSAGES.c.kind, MESSAGES.c.text, MESSAGES.c.meta,
                                      MESSAGES.c.created_at)
                               .where(MESSAGES.c.user_id == user_id, MESSAGES.c.created_at >= since)
                               .order_by(MESSAGES.c.id.desc()).limit(TRANSCRIPT_MESSAGES)).all()
        earlier = list(reversed(earlier))
        entities: dict = {}
        for message in earlier:
            entities = merge_entities(entities, (message.meta or {}).get("entities"))
        entities = merge_entities(entities, record.entities)
        offer_check = esc.offer_check or record.state.data.get("last_offer_check")
        case = dict(user_id=user_id, priority=esc.priority, priority_rank=PRIORITY_RANK[esc.priority], status="new",
                    reason=esc.reason, language=record.language, entities=entities, offer_check=offer_check,
                    report=esc.report, assigned_to=None, fired_by=esc.fired_by[:200] if esc.fired_by else None,
                    transcript=[{"direction": m.direction, "kind": m.kind, "text": m.text,
                                 "at": m.created_at.isoformat() if m.created_at else None} for m in earlier],
                    summary=summary(esc.reason, record.language, entities, offer_check, esc.fired_brief),
                    created_at=now, updated_at=now, last_user_message_at=now, version=1)
        with conn.begin_nested():  # the partial unique index refuses a second open case of this user
            case["id"] = conn.execute(insert(CASES).values(**case).returning(CASES.c.id)).scalar_one()
        return case

    def _audit(self, conn: Connection, action: str, case_id: int | None, detail: dict, now: datetime) -> None:
        conn.execute(insert(AUDIT).values(at=now, staff_id=None, actor="bot", action=action, case_id=case_id,
                                          detail=detail))
