"""The console's SQL for a long shift: the pulse every page polls (new cases), who is waiting for whom
(the user's unanswered messages and their response timers), delivery states of hotline replies, staff
preferences and the outcome recorded on resolve.

As store.py: every function takes a connection inside a transaction.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Text, cast, func, or_, select, update

from ..hotline.cases import CLAIMABLE, OUTCOMES  # noqa: F401 - OUTCOMES: the resolve form's choices
from ..storage.cases import case_select as _case_select
from .store import RESPONSE_TARGETS, Staff, _overdue_condition, as_utc, cases, messages, outbox, staff_t, users

PREF_KEYS = ("notify", "sound")
FOLLOW_UP_AFTER = timedelta(hours=24)  # a case waiting this long for the user's answer asks for a follow-up
URDU_FONTS = ("nastaliq", "naskh")


# -- the pulse: what every page polls ------------------------------------------------------------------------

def pulse(conn, staff_id: int, now: datetime) -> dict:
    """Unassigned open cases (ids, urgent ones), overdue ones and the person's cases where the user is waiting."""
    rows = conn.execute(select(cases.c.id, cases.c.priority).where(
        cases.c.status != "resolved", cases.c.assigned_to.is_(None)).order_by(cases.c.id)).all()
    overdue = conn.execute(select(func.count()).select_from(cases).where(_overdue_condition(now))).scalar_one()
    mine = [dict(r._mapping) for r in conn.execute(select(cases.c.id, cases.c.priority, cases.c.created_at,
                                                          cases.c.first_response_at, cases.c.last_user_message_at)
                                                   .where(cases.c.status != "resolved",
                                                          cases.c.assigned_to == staff_id))]
    annotate(conn, mine, now)
    return {"unassigned": len(rows), "ids": [r.id for r in rows],
            "urgent": [r.id for r in rows if r.priority == "urgent"], "overdue": overdue,
            "waiting": [r["id"] for r in mine if r["waiting_since"] is not None]}


# -- who is waiting: the user's unanswered messages ------------------------------------------------------------

def _last_staff(conn, case_ids: list[int]) -> dict[int, datetime]:
    query = (select(messages.c.case_id, func.max(messages.c.created_at)).where(
        messages.c.case_id.in_(case_ids), messages.c.direction == "staff").group_by(messages.c.case_id))
    return {case_id: as_utc(at) for case_id, at in conn.execute(query)}


def _first_unanswered(conn, case_ids: list[int]) -> dict[int, datetime]:
    """Per case: the first user message after the hotline's last reply (all of them when it has not replied)."""
    later = messages.alias("later")
    answered = select(later.c.id).where(later.c.case_id == messages.c.case_id, later.c.direction == "staff",
                                        later.c.id > messages.c.id).exists()
    query = (select(messages.c.case_id, func.min(messages.c.created_at)).where(
        messages.c.case_id.in_(case_ids), messages.c.direction == "in", ~answered).group_by(messages.c.case_id))
    return {case_id: as_utc(at) for case_id, at in conn.execute(query)}


def annotate(conn, rows: list[dict], now: datetime) -> list[dict]:
    """Adds to each case row: waiting_since (the user's oldest unanswered message, or the case's opening when
    the hotline never answered), reply_due (waiting_since + the priority's target, for every user message,
    reopened cases too), reply_overdue, new_message (the user wrote after the hotline's last reply),
    no_contact (the report form said no) and unreachable (no chat to write to)."""
    ids = [r["id"] for r in rows]
    if not ids:
        return rows
    last_staff = _last_staff(conn, ids)
    unanswered = _first_unanswered(conn, ids)
    user_ids = {r["user_id"] for r in rows if r.get("user_id") is not None}
    chats = {r.id: r.chat_id for r in conn.execute(select(users.c.id, users.c.chat_id).where(users.c.id.in_(user_ids)))}
    for row in rows:
        target = RESPONSE_TARGETS.get(row.get("priority"), RESPONSE_TARGETS["normal"])
        since = unanswered.get(row["id"])
        if row.get("status") == "resolved":
            since = None
        elif since is None and row["id"] not in last_staff and row.get("first_response_at") is None:
            since = as_utc(row["created_at"])  # a new case: its opening message waits
        row["waiting_since"] = since
        row["new_message"] = since is not None and row["id"] in last_staff
        row["reply_due"] = since + target if since else None
        row["reply_overdue"] = bool(since and now - since > target)
        # waiting for the user: since the hotline's last reply; a reminder to follow up after FOLLOW_UP_AFTER
        asked = last_staff.get(row["id"]) if since is None and row.get("status") == "waiting" else None
        row["waiting_for_user"] = now - asked if asked else None
        row["follow_up"] = bool(asked and now - asked > FOLLOW_UP_AFTER)
        report = row.get("report") if isinstance(row.get("report"), dict) else {}
        row["no_contact"] = report.get("contact") is False or report.get("contact_ok") is False
        row["unreachable"] = "user_id" in row and not chats.get(row["user_id"])
    return rows


def sort_rows(view: str, rows: list[dict]) -> list[dict]:
    """Open views: urgent first; within a priority, cases that wait for the hotline (overdue first, then the
    longest waiting) above cases waiting for the user. Mine: the longest-waiting user first."""
    if view == "resolved":
        return rows
    far = datetime.max.replace(tzinfo=timezone.utc)

    def key(row):
        waiting = row["waiting_since"]
        needs_us = waiting is not None or row.get("status") in CLAIMABLE
        since = waiting or as_utc(row["created_at"])
        if view == "mine":
            return (waiting is None, since if waiting else far, row.get("priority_rank", 2), row["id"])
        return (row.get("priority_rank", 2), not needs_us, not row["reply_overdue"], since, row["id"])
    return sorted(rows, key=key)


# -- delivery of hotline replies --------------------------------------------------------------------------------

def delivery(conn, case_id: int) -> dict[int, str]:
    """message id -> pending | sent | failed, from the outbox rows of the case's hotline replies."""
    out = {}
    for key, status in conn.execute(select(outbox.c.dedupe_key, outbox.c.status).where(
            outbox.c.case_id == case_id, outbox.c.kind == "staff_reply")):
        try:
            message_id = int(key.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
        out[message_id] = {"sent": "sent", "dead": "failed"}.get(status, "pending")
    return out


# -- staff preferences ---------------------------------------------------------------------------------------

def set_prefs(conn, staff: Staff, notify: bool, sound: bool, urdu_font: str, timezone_name: str = "",
              zones: tuple[str, ...] = ()) -> dict:
    """timezone_name: one of `zones` (desk_routes.zone_names), else "" (the console's CONSOLE_TIMEZONE)."""
    prefs = {"notify": bool(notify), "sound": bool(sound),
             "urdu_font": urdu_font if urdu_font in URDU_FONTS else "nastaliq"}
    if timezone_name and timezone_name in zones:
        prefs["timezone"] = timezone_name
    conn.execute(update(staff_t).where(staff_t.c.id == staff.id).values(prefs=prefs))
    return prefs


# -- resolving ------------------------------------------------------------------------------------------------

def last_message_from_user(conn, case_id: int) -> bool:
    """The user wrote last, not counting the bot's own answers: no person at the hotline has answered it."""
    last = conn.execute(select(messages.c.direction).where(messages.c.case_id == case_id,
                                                           messages.c.direction.in_(("in", "staff")))
                        .order_by(messages.c.id.desc()).limit(1)).scalar()
    return last == "in"


# -- finding things ----------------------------------------------------------------------------------------------

def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(conn, text: str, limit: int = 100) -> list[dict]:
    """Cases whose summary, report form, entities or messages contain `text` (any case), or whose recruiter
    checks asked about or found an agent or agency of that name, newest first. (Report and entity fields
    are searched in their stored JSON, which holds Urdu as UTF-8 text since migration 0010.)"""
    from .desk_store import cases_by_agent_check

    pattern = _like(text)
    in_messages = select(messages.c.case_id).where(messages.c.text.ilike(pattern, escape="\\"))
    by_agent = cases_by_agent_check(conn, text, _like)
    query = (_case_select().where(or_(cases.c.summary.ilike(pattern, escape="\\"),
                                      cast(cases.c.report, Text).ilike(pattern, escape="\\"),
                                      cast(cases.c.entities, Text).ilike(pattern, escape="\\"),
                                      cases.c.id.in_(in_messages), cases.c.id.in_(sorted(by_agent))))
             .order_by(cases.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in conn.execute(query)]


def person_history(conn, case: dict) -> list[dict]:
    """The same person's other cases, newest first."""
    query = (select(cases.c.id, cases.c.status, cases.c.priority, cases.c.reason, cases.c.created_at, cases.c.outcome)
             .where(cases.c.user_id == case["user_id"], cases.c.id != case["id"]).order_by(cases.c.id.desc()))
    return [dict(r._mapping) for r in conn.execute(query)]
