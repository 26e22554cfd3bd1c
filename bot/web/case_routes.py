"""The console's queue and case pages, and the case actions (claim, take over, assign, reply, note,
status, reopen): each runs the case rules (hotline/cases.py, through web/store.py) in one transaction."""
from __future__ import annotations

from typing import Callable

from starlette.responses import JSONResponse, Response

from . import store
from .formatting import NOTICES, error_text
from .framework import SUPERVISORS, Ctx, redirect, route
from .i18n import _


# -- the queue ---------------------------------------------------------------------------------------------

def _queue_data(ctx: Ctx) -> dict:
    view = ctx.param("view", "unassigned")
    view = view if view in store.VIEWS else "unassigned"
    now = ctx.now
    from . import shift_routes  # (imports this module)

    filters = shift_routes.queue_filters(ctx)
    with ctx.begin() as conn:
        rows = shift_routes.queue_rows(conn, view, store.queue(conn, view, ctx.staff.id), now, filters)
        numbers = store.counts(conn, ctx.staff.id, now)
    return {"view": view, "rows": rows, "counts": numbers, "filters": filters}


@route("/queue")
def queue_page(ctx: Ctx) -> Response:
    from .desk_routes import queue_extras, queue_flags

    with ctx.begin() as conn:
        extras = queue_extras(conn, ctx.staff.id)  # saved views, tags, handover notes: the page only
    return ctx.render("queue.html", **_queue_data(ctx), **extras, **queue_flags(ctx))


@route("/api/queue", api=True)
def queue_api(ctx: Ctx) -> Response:
    data = _queue_data(ctx)
    html = ctx.console.render("_queue_rows.html", ctx, **data)
    return JSONResponse({"view": data["view"], "counts": data["counts"], "html": html,
                         "ids": [row["id"] for row in data["rows"]]})


# -- a case --------------------------------------------------------------------------------------------------

def _transcript(case: dict, messages: list[dict]) -> list[dict]:
    items = []
    for entry in case.get("transcript") or []:
        if not isinstance(entry, dict):
            entry = {"text": str(entry)}
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        items.append({"before": True, "direction": entry.get("direction"), "kind": entry.get("kind"),
                      "text": str(entry.get("text") or ""), "at": entry.get("at"),
                      "media": entry.get("media") or meta.get("media"), "staff": None, "id": None})
    for message in messages:
        meta = message.get("meta") or {}
        items.append({"before": False, "direction": message["direction"], "kind": message["kind"],
                      "text": message["text"] or "", "at": message["created_at"], "media": meta.get("media"),
                      "staff": meta.get("username"), "id": message["id"],
                      "file": message["direction"] == "in" and bool(meta.get("file_id"))})
    return items


def _case_context(ctx: Ctx, case_id: int) -> dict:
    now = ctx.now
    with ctx.begin() as conn:
        case = store.get_case(conn, case_id)
        messages = store.case_messages(conn, case_id)
        notes = store.case_notes(conn, case_id)
        canned = store.list_canned(conn)
        assignable = store.assignable_staff(conn) if ctx.staff.role in SUPERVISORS else []
        fingerprint = store.case_fingerprint(conn, case_id)
        from . import shift_routes  # (imports this module)

        extras = shift_routes.case_extras(conn, case, now)
    language = case.get("language") or "en"
    canned.sort(key=lambda c: (c["language"] != language, c["language"], c["title"]))
    return {"case": case, "items": _transcript(case, messages), "notes": notes, "canned": canned,
            "assignable": assignable, "timing": store.timing(case, now), "fingerprint": fingerprint,
            "mine": case["assigned_to"] == ctx.staff.id, "supervisor": ctx.staff.role in SUPERVISORS, **extras,
            "agent_checks": [m["meta"]["agent_check"] for m in messages if (m.get("meta") or {}).get("agent_check")]}


def _case_page(ctx: Ctx, case_id: int, status: int = 200, error: str | None = None, **extra) -> Response:
    notice_code = ctx.param("done")
    notice = _(NOTICES[notice_code]) if notice_code in NOTICES and status == 200 else None
    return ctx.render("case.html", status=status, error=error, notice=notice, draft=extra.pop("draft", ""),
                      note_draft=extra.pop("note_draft", ""), **_case_context(ctx, case_id), **extra)


def _case_id(ctx: Ctx) -> int:
    return int(ctx.request.path_params["case_id"])


@route("/cases/{case_id:int}")
def case_page(ctx: Ctx) -> Response:
    return _case_page(ctx, _case_id(ctx))


@route("/api/cases/{case_id:int}", api=True)
def case_api(ctx: Ctx) -> Response:
    """What the open case page polls: its version, the last message, the transcript's HTML."""
    case_id = _case_id(ctx)
    with ctx.begin() as conn:
        case = store.get_case(conn, case_id)
        messages = store.case_messages(conn, case_id)
        fingerprint = store.case_fingerprint(conn, case_id)
        from .shift_store import delivery

        states = delivery(conn, case_id)
    html = ctx.console.render("_transcript.html", ctx, items=_transcript(case, messages), delivery=states, case=case)
    return JSONResponse({**fingerprint, "html": html})


def _act(ctx: Ctx, action: Callable, done: str, draft_field: str | None = None) -> Response:
    """Runs a case action in one transaction; on success back to the case (POST-redirect-GET), on a refused
    action the case page with the reason (409) and what the person typed."""
    case_id = _case_id(ctx)
    try:
        with ctx.begin() as conn:
            store.get_case(conn, case_id)
            action(conn, case_id)
    except store.CaseError as error:
        drafts = {draft_field: ctx.form.get("text", "")} if draft_field else {}
        return _case_page(ctx, case_id, 409, error_text(error), **drafts)
    return redirect(f"/cases/{case_id}?done={done}")


@route("/cases/{case_id:int}/claim", methods=("POST",))
def claim(ctx: Ctx) -> Response:
    def action(conn, case_id):
        if not store.claim(conn, case_id, ctx.staff, ctx.now):
            raise store.CaseError("claim_lost")
    return _act(ctx, action, "claimed")


@route("/cases/{case_id:int}/takeover", methods=("POST",))
def takeover(ctx: Ctx) -> Response:
    expected = ctx.int_field("expected")
    return _act(ctx, lambda conn, case_id: store.takeover(conn, case_id, ctx.staff, expected, ctx.now), "taken")


@route("/cases/{case_id:int}/assign", methods=("POST",), roles=SUPERVISORS)
def assign(ctx: Ctx) -> Response:
    target = ctx.int_field("staff_id")
    if target is None:
        return _case_page(ctx, _case_id(ctx), 409, error_text(store.CaseError("bad_assignee")))
    return _act(ctx, lambda conn, case_id: store.assign(conn, case_id, target, ctx.staff, ctx.now), "assigned")


@route("/cases/{case_id:int}/reply", methods=("POST",))
def reply(ctx: Ctx) -> Response:
    text = ctx.form.get("text", "")
    return _act(ctx, lambda conn, case_id: store.reply(conn, case_id, ctx.staff, text, ctx.now,
                                                       ctx.console.case_text), "replied",
                draft_field="draft")


@route("/cases/{case_id:int}/notes", methods=("POST",))
def add_note(ctx: Ctx) -> Response:
    text = ctx.form.get("text", "")
    return _act(ctx, lambda conn, case_id: store.add_note(conn, case_id, ctx.staff, text, ctx.now), "noted",
                draft_field="note_draft")


@route("/cases/{case_id:int}/status", methods=("POST",))
def set_status(ctx: Ctx) -> Response:
    status = ctx.form.get("status", "")
    return _act(ctx, lambda conn, case_id: store.set_status(conn, case_id, ctx.staff, status, ctx.now), "status")


@route("/cases/{case_id:int}/reopen", methods=("POST",))
def reopen(ctx: Ctx) -> Response:
    return _act(ctx, lambda conn, case_id: store.reopen(conn, case_id, ctx.staff, ctx.now), "reopened")
