"""The case rules, in one place: what a user's message does to their case (open, join, raise the
priority, waiting -> back in the queue), and what staff may do with it (claim, take over, assign,
reply, note, status, resolve, reopen), each with its audit row. The bot's turn (hotline/turn.py), the
console (web/store.py) and the staff-group commands (hotline/staff_group.py) all call these.

The rules run inside the caller's transaction on a CaseRepository: storage's SQL one
(storage/cases.py) in production, an in-memory one in tests/test_case_rules.py. The repository only
stores and finds; every decision is here. What a message looks like on a channel (the staff alert's
Telegram HTML, the header of a hotline reply) is the channel's: a CaseText passed in
(telegram/case_text.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from .policy import ALERTED, PRIORITY_RANK, fired_of, merge_entities, summary

log = logging.getLogger("safesafar.hotline")

CLAIMABLE = ("new", "reopened")  # statuses of a case waiting in the queue for someone to take it
CASE_ROLES = ("agent", "supervisor", "admin")  # roles that work cases (editors do not)
MAX_REPLY = 3500  # Telegram takes 4096 characters; the header and escaping need room
MAX_NOTE = 5000
TRANSCRIPT_MESSAGES = 30  # how much of the conversation before a case opens is copied into it
TRANSCRIPT_DAYS = 7


class CaseError(Exception):
    """An action that cannot be done now; `code` selects the message staff see."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


class NotFound(Exception):
    pass


@dataclass(frozen=True)
class OneOf:
    """A condition of CaseRepository.update_case: the column's value is one of these."""
    values: tuple


@dataclass(frozen=True)
class Not:
    """A condition of CaseRepository.update_case: the column's value is not this one."""
    value: Any


class CaseRepository(Protocol):
    """Storage of cases inside one transaction. No decisions: finds, inserts, and conditional updates
    that report whether they applied (so that two people acting at once never both win)."""

    def open_case_of_user(self, user_id: int) -> dict | None: ...  # locked for the transaction where it can be
    def get_case(self, case_id: int) -> dict | None: ...  # with assignee_username
    def recent_messages(self, user_id: int, since: datetime, limit: int) -> list[dict]: ...  # oldest first
    def insert_case(self, values: dict) -> int: ...
    # values applied (and the version bumped) only where every `expect` condition holds: True if it did
    def update_case(self, case_id: int, values: dict, expect: dict | None = None) -> bool: ...
    def add_message(self, values: dict) -> int: ...
    def add_note(self, values: dict) -> int: ...
    def add_outbox(self, values: dict) -> int: ...
    def audit(self, at: datetime, actor: str, action: str, case_id: int | None, staff_id: int | None,
              detail: dict) -> None: ...
    def staff(self, staff_id: int) -> Any: ...  # .id .username .role .active, or None
    def chat_id(self, user_id: int) -> str | None: ...
    def other_open_case(self, user_id: int, case_id: int) -> int | None: ...


class CaseText(Protocol):
    """The channel's rendering of what the case rules send (outbox payloads)."""

    def alert(self, case_id: int, priority: str, summary_line: str, raised: bool) -> dict: ...
    def staff_reply(self, language: str | None, text: str) -> dict: ...


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
class Alert:
    """A staff alert to post (a new urgent or high case, or one raised to such a priority)."""
    case_id: int
    priority: str
    summary: str
    raised: bool


@dataclass
class UserMessage:
    """What a user's turn brings to the case rules."""
    user_id: int
    language: str
    entities: list
    escalation: Escalation | None = None
    last_offer_check: dict | None = None  # the conversation's latest offer check, copied into a new case
    erased: bool = False  # the user erased their conversation this turn (/delete_me)


@dataclass
class CaseStep:
    case_id: int | None
    outcome: CaseOutcome | None
    alert: Alert | None


def audit(repo: CaseRepository, now: datetime, actor, action: str, case_id: int | None = None, **detail) -> None:
    """actor: a staff member (.id, .username) or a name ("bot", "system")."""
    if isinstance(actor, str):
        repo.audit(now, actor, action, case_id, None, detail)
    else:
        repo.audit(now, actor.username, action, case_id, actor.id, detail)


# -- a user's message ------------------------------------------------------------------------------------

def user_message(repo: CaseRepository, message: UserMessage, now: datetime) -> CaseStep:
    """Open a case, or join the open one and raise its priority; the user answering the hotline puts a
    waiting case back in the queue (or with the person holding it)."""
    found = repo.open_case_of_user(message.user_id)
    case = dict(found) if found else None
    esc = message.escalation
    outcome: CaseOutcome | None = None
    alert: tuple[str, bool] | None = None
    changes: dict = {}
    if case is not None:
        outcome = CaseOutcome(case["id"], case["priority"], joined=True)
    if esc is not None:
        if case is None:
            case = _open(repo, message, esc, now)
            outcome = CaseOutcome(case["id"], case["priority"], opened=True)
            alert = (case["priority"], False)
        else:
            raised = PRIORITY_RANK[esc.priority] < case["priority_rank"]
            if raised:
                changes.update(priority=esc.priority, priority_rank=PRIORITY_RANK[esc.priority], reason=esc.reason)
                if esc.fired_by:
                    changes["fired_by"] = esc.fired_by[:200]
                alert = (esc.priority, True)
                audit(repo, now, "bot", "priority_raised", case["id"], priority=esc.priority, reason=esc.reason)
            if esc.report:
                changes["report"] = esc.report
            if esc.offer_check:
                changes["offer_check"] = esc.offer_check
            case.update(changes)
            # what fired stays in the line (a raise says what fired this time)
            fired = esc.fired_brief if raised and esc.fired_brief else fired_of(case["summary"])
            changes["summary"] = case["summary"] = summary(case["reason"], message.language, case["entities"] or {},
                                                          case["offer_check"], fired)
            outcome = CaseOutcome(case["id"], case["priority"], raised=raised, joined=True)
    if case is not None and not message.erased and not outcome.opened:
        changes["last_user_message_at"] = now
        if case["status"] == "waiting":  # the user answered the hotline
            changes["status"] = "claimed" if case["assigned_to"] else "new"
        if message.entities:
            changes["entities"] = case["entities"] = merge_entities(case["entities"] or {}, message.entities)
            # the summary follows the newest entities (the country named last, a request for a woman)
            changes["summary"] = case["summary"] = summary(case["reason"], case["language"], case["entities"],
                                                          case["offer_check"], fired_of(case["summary"]))
    if case is not None and changes:
        repo.update_case(case["id"], {"updated_at": now, **changes})
    staff_alert = None
    if alert is not None:
        priority, raised = alert
        audit(repo, now, "bot", "case_raised" if raised else "case_opened", case["id"], priority=priority,
              reason=case["reason"])
        if priority in ALERTED:
            staff_alert = Alert(case["id"], priority, case["summary"], raised)
    return CaseStep(case["id"] if case is not None else None, outcome, staff_alert)


def _open(repo: CaseRepository, message: UserMessage, esc: Escalation, now: datetime) -> dict:
    earlier = repo.recent_messages(message.user_id, now - timedelta(days=TRANSCRIPT_DAYS), TRANSCRIPT_MESSAGES)
    entities: dict = {}
    for earlier_message in earlier:
        entities = merge_entities(entities, (earlier_message["meta"] or {}).get("entities"))
    entities = merge_entities(entities, message.entities)
    offer_check = esc.offer_check or message.last_offer_check
    case = dict(user_id=message.user_id, priority=esc.priority, priority_rank=PRIORITY_RANK[esc.priority],
                status="new", reason=esc.reason, language=message.language, entities=entities,
                offer_check=offer_check, report=esc.report, assigned_to=None,
                fired_by=esc.fired_by[:200] if esc.fired_by else None,
                transcript=[{"direction": m["direction"], "kind": m["kind"], "text": m["text"],
                             "at": m["created_at"].isoformat() if m["created_at"] else None} for m in earlier],
                summary=summary(esc.reason, message.language, entities, offer_check, esc.fired_brief),
                created_at=now, updated_at=now, last_user_message_at=now, version=1)
    case["id"] = repo.insert_case(case)
    return case


# -- staff ---------------------------------------------------------------------------------------------------

def _case(repo: CaseRepository, case_id: int) -> dict:
    case = repo.get_case(case_id)
    if case is None:
        raise NotFound(case_id)
    return case


def _holding(case: dict, staff) -> None:
    if case["status"] == "resolved":
        raise CaseError("resolved")
    if case["assigned_to"] != staff.id:
        raise CaseError("not_yours", holder=case["assignee_username"])


def _text(text: str | None, limit: int) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise CaseError("empty")
    if len(text) > limit:
        raise CaseError("too_long", limit=limit)
    return text


def _taken_status(status: str) -> str:
    """A case someone takes leaves the queue; a waiting one keeps waiting for the user."""
    return "claimed" if status in CLAIMABLE else status


def claim(repo: CaseRepository, case_id: int, staff, now: datetime) -> bool:
    """Exactly one of several people claiming at once wins."""
    if not repo.update_case(case_id, {"updated_at": now, "assigned_to": staff.id, "status": "claimed"},
                            {"assigned_to": None, "status": OneOf(CLAIMABLE)}):
        return False
    audit(repo, now, staff, "claim", case_id)
    return True


def takeover(repo: CaseRepository, case_id: int, staff, expected: int | None, now: datetime) -> None:
    """Takes a case from `expected` (the assignee the person saw). Logged with the previous assignee."""
    case = repo.get_case(case_id)
    if case is None or case["status"] == "resolved" or case["assigned_to"] != expected:
        raise CaseError("changed")
    if not repo.update_case(case_id, {"updated_at": now, "assigned_to": staff.id,
                                      "status": _taken_status(case["status"])},
                            {"assigned_to": expected, "status": case["status"]}):
        raise CaseError("changed")
    previous = repo.staff(expected) if expected is not None else None
    audit(repo, now, staff, "takeover", case_id, previous_id=expected,
          previous=previous.username if previous else None)


def assign(repo: CaseRepository, case_id: int, target_id: int, by, now: datetime) -> None:
    target = repo.staff(target_id)
    if target is None or not target.active or target.role not in CASE_ROLES:
        raise CaseError("bad_assignee")
    current = _case(repo, case_id)
    if current["status"] == "resolved":
        raise CaseError("resolved")
    if not repo.update_case(case_id, {"updated_at": now, "assigned_to": target.id,
                                      "status": _taken_status(current["status"])},
                            {"version": current["version"]}):
        raise CaseError("changed")
    audit(repo, now, by, "assign", case_id, previous_id=current["assigned_to"],
          previous=current["assignee_username"], to_id=target.id, to=target.username)


def reply(repo: CaseRepository, case_id: int, staff, text: str, now: datetime, render: CaseText) -> int:
    """The message, the outbox row the bot delivers and the case's new state (waiting for the user), in
    the caller's transaction. Only the person holding the case may reply."""
    text = _text(text, MAX_REPLY)
    case = _case(repo, case_id)
    _holding(case, staff)
    chat_id = repo.chat_id(case["user_id"])
    if not chat_id:
        raise CaseError("unreachable")
    if not repo.update_case(case_id, {"updated_at": now, "status": "waiting",
                                      "first_response_at": case["first_response_at"] or now},
                            {"assigned_to": staff.id, "status": Not("resolved")}):
        raise CaseError("changed")
    message_id = repo.add_message(dict(user_id=case["user_id"], case_id=case_id, direction="staff", kind="text",
                                       text=text, meta={"staff_id": staff.id, "username": staff.username},
                                       created_at=now))
    repo.add_outbox(dict(kind="staff_reply", dedupe_key=f"staff_reply:{message_id}", chat_id=str(chat_id),
                         case_id=case_id, payload=render.staff_reply(case["language"], text), status="pending",
                         attempts=0, next_attempt_at=now, created_at=now))
    audit(repo, now, staff, "reply", case_id, message_id=message_id, length=len(text))
    return message_id


def add_note(repo: CaseRepository, case_id: int, staff, text: str, now: datetime) -> int:
    text = _text(text, MAX_NOTE)
    _case(repo, case_id)
    note_id = repo.add_note(dict(case_id=case_id, staff_id=staff.id, text=text, created_at=now))
    audit(repo, now, staff, "note", case_id, note_id=note_id)
    return note_id


def set_status(repo: CaseRepository, case_id: int, staff, status: str, now: datetime) -> None:
    """waiting (for the user) or resolved, by the person holding the case."""
    if status not in ("waiting", "resolved"):
        raise CaseError("bad_status")
    case = _case(repo, case_id)
    _holding(case, staff)
    values = {"updated_at": now, "status": status}
    if status == "resolved":
        values["resolved_at"] = now
    if not repo.update_case(case_id, values, {"assigned_to": staff.id, "status": Not("resolved")}):
        raise CaseError("changed")
    audit(repo, now, staff, "status", case_id, previous=case["status"], status=status)


# what a resolved case led to (cases.outcome): referrals first, then results without a referral
OUTCOMES = ("referred_fia", "referred_1122", "referred_embassy", "referred_mrc", "information", "no_contact",
            "duplicate")


def resolve(repo: CaseRepository, case_id: int, staff, now: datetime, outcome: str | None = None) -> None:
    """Resolves the case held by `staff`; the console records what it led to (OUTCOMES), others may not."""
    if outcome is None:
        return set_status(repo, case_id, staff, "resolved", now)
    if outcome not in OUTCOMES:
        raise CaseError("no_outcome")
    case = _case(repo, case_id)
    _holding(case, staff)
    if not repo.update_case(case_id, {"updated_at": now, "status": "resolved", "resolved_at": now, "outcome": outcome},
                            {"assigned_to": staff.id, "status": Not("resolved")}):
        raise CaseError("changed")
    audit(repo, now, staff, "status", case_id, previous=case["status"], status="resolved", outcome=outcome)


def reopen(repo: CaseRepository, case_id: int, staff, now: datetime) -> None:
    """A resolved case goes back to the queue, unassigned. One open case per user: if the person has
    another open case, say which (the repository raises CaseError("other_open") when the bot opened
    one at the same moment)."""
    case = _case(repo, case_id)
    if case["status"] != "resolved":
        raise CaseError("not_resolved")
    other = repo.other_open_case(case["user_id"], case_id)
    if other is not None:
        raise CaseError("other_open", other=other)
    if not repo.update_case(case_id, {"updated_at": now, "status": "reopened", "assigned_to": None,
                                      "resolved_at": None}, {"status": "resolved"}):
        raise CaseError("changed")
    audit(repo, now, staff, "status", case_id, previous="resolved", status="reopened")
