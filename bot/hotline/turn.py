"""One conversation turn's unit of work: the state loaded (load_turn), then everything the turn causes
stored in one transaction (commit_turn): the inbox mark, the state (over the version it loaded), the
user, the case (by the case rules, hotline/cases.py), the messages, the outbox rows (replies, staff
alert) and the audit rows. Storage (storage/turns.py) only stores what this decides.

Every write that a user or the hotline must not lose happens inside the one transaction: the case is
committed before the user is told it was received (the acknowledgement is an outbox row of that same
transaction).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from ..dialogue.state import ConversationState
from ..storage.hotline_store import HotlineStore, Inbound, OpenCase, OutboxItem, TurnWrites
from . import cases
from .cases import CaseOutcome, CaseText, Escalation

log = logging.getLogger("safesafar.hotline")


@dataclass
class Loaded:
    done: bool  # this update was processed already
    state: ConversationState
    case: OpenCase | None
    version: int = 0  # the stored state's version (0: none stored); commit_turn stores only over this one
    waiting: bool = False  # an earlier update of this user is not done: nothing loaded, try again later


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
    # the learning inbox (issue 20): learning(staff names) -> the redacted inbox row or None; vote: a 👍 / 👎
    learning: Callable[[list[str]], dict | None] | None = None
    vote: dict | None = None


def load_turn(store: HotlineStore, inbound: Inbound) -> Loaded:
    stored = store.load(inbound)
    state = (ConversationState(inbound.user_key) if stored.state is None
             else ConversationState(inbound.user_key, **stored.state))
    return Loaded(stored.done, state, stored.case, version=stored.version, waiting=stored.waiting)


def _state_fields(state: ConversationState) -> dict:
    return {"language": state.language, "language_chosen": state.language_chosen, "flow": state.flow,
            "last_topic": state.last_topic, "misses": state.misses, "data": state.data}


def _reply_payload(reply) -> dict:
    return {"text": reply.text, "rtl": bool(reply.rtl),
            "buttons": [[[b.label, b.payload] for b in row] for row in reply.buttons]}


def commit_turn(store: HotlineStore, record: TurnRecord, acknowledge: Callable[[CaseOutcome | None, bool], list],
                text: CaseText | None = None) -> list[OutboxItem]:
    """Stores the turn in one transaction and returns the outbox rows to deliver now.
    `acknowledge(outcome, erased_with_case)` gives the replies that tell the user what happened to
    their case (its number exists only here, inside the transaction); `text` renders the staff alert
    (default: Telegram HTML linking to store.console_url). Raises TurnConflict (nothing stored) when
    the user's state is no longer `record.version` or an earlier update of the user is not done yet."""
    if text is None:
        from ..telegram.case_text import TelegramCaseText

        text = TelegramCaseText(store.console_url)
    return store.run_turn(lambda writes: _commit(store, writes, record, acknowledge, text))


def _commit(store: HotlineStore, writes: TurnWrites, record: TurnRecord, acknowledge,
            text: CaseText) -> list[OutboxItem]:
    now = store.clock()
    inbound = record.inbound
    if not writes.mark_done(inbound, now):
        return []  # the update was stored by another worker meanwhile
    writes.save_state(record.state.user, _state_fields(record.state), record.version, now)
    user_id = writes.user(inbound, record.language, now)
    erased = bool(record.state.data.get("erased"))
    if erased:
        writes.erase(inbound, user_id)
    step = cases.user_message(writes.cases, cases.UserMessage(
        user_id, record.language, record.entities, record.escalation,
        last_offer_check=record.state.data.get("last_offer_check"), erased=erased), now)

    replies = list(record.replies) + list(acknowledge(step.outcome, erased and step.case_id is not None))
    messages: list[dict] = []
    if not erased:
        messages.append(dict(user_id=user_id, case_id=step.case_id, direction="in", kind=inbound.kind,
                             text=inbound.text[:4000], meta={**inbound.meta, **record.in_meta}, created_at=now))
    claimed = ({"locked_by": record.claim_as, "locked_until": now + timedelta(seconds=record.lease_seconds),
                "attempts": 1} if record.claim_as else {"locked_by": None, "locked_until": None, "attempts": 0})
    outbox: list[dict] = []
    for index, reply in enumerate(replies):
        if not erased:
            messages.append(dict(user_id=user_id, case_id=step.case_id, direction="out", kind="text",
                                 text=reply.text, meta={}, created_at=now))
        if record.durable_replies and inbound.chat_id:
            key = (f"{inbound.source}:{inbound.update_id}:{index}" if inbound.update_id is not None
                   else f"reply:{uuid.uuid4().hex}")
            outbox.append(dict(kind="reply", dedupe_key=key, chat_id=str(inbound.chat_id),
                               payload=_reply_payload(reply), case_id=step.case_id, status="pending",
                               next_attempt_at=now, created_at=now, **claimed))
    alert = step.alert
    if alert is not None:
        if store.staff_chat_id:
            outbox.append(dict(kind="staff_alert", dedupe_key=f"alert:{alert.case_id}:{alert.priority}",
                               chat_id=str(store.staff_chat_id), case_id=alert.case_id, status="pending",
                               payload=text.alert(alert.case_id, alert.priority, alert.summary, alert.raised),
                               next_attempt_at=now, created_at=now, **claimed))
        else:
            log.warning("case %s (%s): no STAFF_CHAT_ID set, no staff alert", alert.case_id, alert.priority)
    writes.add_messages(messages)
    if record.vote and record.vote.get("topic"):
        writes.answer_feedback(record.vote["topic"], record.language, record.vote["vote"], now)
    if record.learning is not None and not erased:
        row = record.learning(writes.staff_names())
        if row is not None:
            writes.learning_item(row, now)
    return writes.add_outbox(outbox)
