"""The console's SQL for the rest of a long shift (issue 22): tags on cases (supervisors keep the list), saved
queue views per person, shift-handover notes, and the agents or agencies named in a case's recruiter checks.

As store.py: every function takes a connection inside a transaction.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..storage.db import CaseTagRow, HandoverRow, SavedViewRow, TagRow
from .edge import neutralise_bidi
from .store import CaseError, NotFound, Staff, audit, messages, staff_t

tags_t = TagRow.__table__
case_tags = CaseTagRow.__table__
views_t = SavedViewRow.__table__
handover_t = HandoverRow.__table__

TAG_KINDS = ("route", "destination", "agent", "other")
MAX_TAG = 64
MAX_VIEW_NAME = 64
MAX_VIEWS = 30  # saved views per person
MAX_HANDOVER = 4000
AGENT_CHECK_FIELDS = ("query", "title", "proprietor", "licence")


def _clean(text: str, limit: int) -> str:
    text = neutralise_bidi(" ".join((text or "").split()))
    if not text:
        raise CaseError("empty")
    if len(text) > limit:
        raise CaseError("too_long", limit=limit)
    return text


# -- tags ------------------------------------------------------------------------------------------------------

def list_tags(conn) -> list[dict]:
    """Every tag with how many cases carry it, by kind then name."""
    used = (select(case_tags.c.tag_id, func.count().label("uses")).group_by(case_tags.c.tag_id).subquery())
    query = (select(tags_t, func.coalesce(used.c.uses, 0).label("uses"))
             .select_from(tags_t.outerjoin(used, used.c.tag_id == tags_t.c.id)).order_by(tags_t.c.kind, tags_t.c.name))
    return [dict(r._mapping) for r in conn.execute(query)]


def create_tag(conn, staff: Staff, kind: str, name: str, now: datetime) -> int:
    if kind not in TAG_KINDS:
        raise CaseError("bad_tag")
    name = _clean(name, MAX_TAG)
    if conn.execute(select(tags_t.c.id).where(tags_t.c.kind == kind, func.lower(tags_t.c.name) == name.lower())).first():
        raise CaseError("tag_exists")
    try:
        with conn.begin_nested():
            tag_id = conn.execute(insert(tags_t).values(kind=kind, name=name, created_at=now)).inserted_primary_key[0]
    except IntegrityError as exc:  # the same tag added at the same moment
        raise CaseError("tag_exists") from exc
    audit(conn, now, staff, "tag_create", kind=kind, title=name)
    return tag_id


def delete_tag(conn, staff: Staff, tag_id: int, now: datetime) -> None:
    row = conn.execute(select(tags_t).where(tags_t.c.id == tag_id)).first()
    if row is None:
        raise NotFound(tag_id)
    conn.execute(delete(case_tags).where(case_tags.c.tag_id == tag_id))
    conn.execute(delete(tags_t).where(tags_t.c.id == tag_id))
    audit(conn, now, staff, "tag_delete", kind=row.kind, title=row.name)


def case_tag_list(conn, case_id: int) -> list[dict]:
    query = (select(tags_t).join(case_tags, case_tags.c.tag_id == tags_t.c.id).where(case_tags.c.case_id == case_id)
             .order_by(tags_t.c.kind, tags_t.c.name))
    return [dict(r._mapping) for r in conn.execute(query)]


def tags_of_cases(conn, case_ids: list[int]) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    if not case_ids:
        return out
    query = (select(case_tags.c.case_id, tags_t.c.id, tags_t.c.kind, tags_t.c.name)
             .join(tags_t, case_tags.c.tag_id == tags_t.c.id).where(case_tags.c.case_id.in_(case_ids))
             .order_by(tags_t.c.kind, tags_t.c.name))
    for row in conn.execute(query):
        out.setdefault(row.case_id, []).append({"id": row.id, "kind": row.kind, "name": row.name})
    return out


def tag_case(conn, case_id: int, staff: Staff, tag_id: int, add: bool, now: datetime) -> None:
    tag = conn.execute(select(tags_t).where(tags_t.c.id == tag_id)).first()
    if tag is None:
        raise CaseError("bad_tag")
    has = conn.execute(select(case_tags.c.tag_id).where(case_tags.c.case_id == case_id,
                                                        case_tags.c.tag_id == tag_id)).first() is not None
    if add and not has:
        try:
            with conn.begin_nested():
                conn.execute(insert(case_tags).values(case_id=case_id, tag_id=tag_id, staff_id=staff.id, created_at=now))
        except IntegrityError:  # tagged by someone else at the same moment: the same outcome
            return
    elif not add and has:
        conn.execute(delete(case_tags).where(case_tags.c.case_id == case_id, case_tags.c.tag_id == tag_id))
    else:
        return
    audit(conn, now, staff, "tag_add" if add else "tag_remove", case_id, kind=tag.kind, title=tag.name)


def cases_with_tag(conn, tag_id: int) -> set[int]:
    return set(conn.execute(select(case_tags.c.case_id).where(case_tags.c.tag_id == tag_id)).scalars())


# -- saved views -----------------------------------------------------------------------------------------------

def list_views(conn, staff_id: int) -> list[dict]:
    query = select(views_t).where(views_t.c.staff_id == staff_id).order_by(views_t.c.name, views_t.c.id)
    return [dict(r._mapping) for r in conn.execute(query)]


def save_view(conn, staff: Staff, name: str, filters: dict, now: datetime) -> int:
    """A view of this name replaces the person's earlier one of the same name."""
    name = _clean(name, MAX_VIEW_NAME)
    existing = conn.execute(select(views_t.c.id).where(views_t.c.staff_id == staff.id, views_t.c.name == name)).scalar()
    if existing is not None:
        conn.execute(update(views_t).where(views_t.c.id == existing).values(filters=filters, created_at=now))
        return existing
    count = conn.execute(select(func.count()).select_from(views_t).where(views_t.c.staff_id == staff.id)).scalar_one()
    if count >= MAX_VIEWS:
        raise CaseError("too_many_views", limit=MAX_VIEWS)
    return conn.execute(insert(views_t).values(staff_id=staff.id, name=name, filters=filters, created_at=now)
                        ).inserted_primary_key[0]


def delete_view(conn, staff: Staff, view_id: int) -> None:
    """Only the person's own view: another person's id is not found."""
    if conn.execute(delete(views_t).where(views_t.c.id == view_id, views_t.c.staff_id == staff.id)).rowcount != 1:
        raise NotFound(view_id)


# -- shift handover --------------------------------------------------------------------------------------------

def write_handover(conn, staff: Staff, text: str, now: datetime) -> int:
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise CaseError("empty")
    if len(text) > MAX_HANDOVER:
        raise CaseError("too_long", limit=MAX_HANDOVER)
    note_id = conn.execute(insert(handover_t).values(staff_id=staff.id, text=neutralise_bidi(text), created_at=now)
                           ).inserted_primary_key[0]
    audit(conn, now, staff, "handover_write", length=len(text))
    return note_id


def open_handovers(conn, staff_id: int) -> list[dict]:
    """Handover notes nobody has acknowledged yet, written by others, oldest first."""
    query = (select(handover_t, staff_t.c.username, staff_t.c.display_name)
             .select_from(handover_t.outerjoin(staff_t, handover_t.c.staff_id == staff_t.c.id))
             .where(handover_t.c.acknowledged_at.is_(None),
                    (handover_t.c.staff_id != staff_id) | handover_t.c.staff_id.is_(None))
             .order_by(handover_t.c.id))
    return [dict(r._mapping) for r in conn.execute(query)]


def my_open_handovers(conn, staff_id: int) -> list[dict]:
    query = (select(handover_t).where(handover_t.c.staff_id == staff_id, handover_t.c.acknowledged_at.is_(None))
             .order_by(handover_t.c.id))
    return [dict(r._mapping) for r in conn.execute(query)]


def acknowledge_handover(conn, staff: Staff, note_id: int, now: datetime) -> None:
    """The next person read it: it leaves the queue page. The writer cannot acknowledge their own note."""
    row = conn.execute(select(handover_t).where(handover_t.c.id == note_id)).first()
    if row is None:
        raise NotFound(note_id)
    if row.staff_id == staff.id:
        raise CaseError("own_handover")
    if conn.execute(update(handover_t).where(handover_t.c.id == note_id, handover_t.c.acknowledged_at.is_(None))
                    .values(acknowledged_by=staff.id, acknowledged_at=now)).rowcount == 1:
        audit(conn, now, staff, "handover_ack", writer=row.staff_id)


# -- recruiter checks: the agents and agencies a case asked about ------------------------------------------------

def cases_by_agent_check(conn, text: str, like) -> set[int]:
    """Cases with a recruiter check whose asked-for name, agency, proprietor or licence contains `text`.
    (The JSON is searched as text in SQL, then the match is confirmed on the check's own fields.)"""
    meta = cast(messages.c.meta, Text)
    query = select(messages.c.case_id, messages.c.meta).where(
        messages.c.case_id.is_not(None), meta.ilike(like('"agent_check"'), escape="\\"),
        meta.ilike(like(text), escape="\\"))
    needle = text.casefold()
    found = set()
    for case_id, data in conn.execute(query):
        check = (data or {}).get("agent_check") or {}
        if any(needle in str(check.get(field) or "").casefold() for field in AGENT_CHECK_FIELDS):
            found.add(case_id)
    return found
