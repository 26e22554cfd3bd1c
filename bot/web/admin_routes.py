"""The console's supervisor and admin pages: the audit log, canned replies, staff accounts."""
from __future__ import annotations

import json
from typing import Callable

from starlette.responses import Response

from . import i18n, store
from .auth import USERNAME_RE, check_password_policy
from .formatting import error_text
from .framework import ADMINS, ALL_ROLES, SUPERVISORS, Ctx, redirect, route
from .i18n import _


# -- audit log ----------------------------------------------------------------------------------------------

@route("/audit", roles=SUPERVISORS)
def audit_page(ctx: Ctx) -> Response:
    case_id, before = ctx.int_param("case") or None, ctx.int_param("before") or None
    action, actor = ctx.param("action") or None, ctx.param("actor").strip().lower() or None
    with ctx.begin() as conn:
        rows = store.list_audit(conn, limit=100, before=before, case_id=case_id, action=action, actor=actor)
        actions = store.audit_actions(conn)
    rows = [dict(r._mapping) for r in rows]
    for row in rows:
        row["detail_text"] = json.dumps(row["detail"] or {}, ensure_ascii=False, sort_keys=True)
    older = rows[-1]["id"] if len(rows) == 100 else None
    return ctx.render("audit.html", rows=rows, actions=actions, case_filter=case_id or "", action_filter=action or "",
                      actor_filter=actor or "", older=older)


# -- canned replies -------------------------------------------------------------------------------------------

def _canned_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    with ctx.begin() as conn:
        replies = store.list_canned(conn)
    done = {"1": _("Saved."), "deleted": _("Deleted.")}
    notice = done.get(ctx.param("done")) if status == 200 else None
    return ctx.render("canned.html", status=status, replies=replies, error=error, notice=notice)


@route("/canned", roles=SUPERVISORS)
def canned_page(ctx: Ctx) -> Response:
    return _canned_page(ctx)


def _canned_action(ctx: Ctx, action: Callable, done: str = "1") -> Response:
    try:
        with ctx.begin() as conn:
            action(conn)
    except store.CaseError as error:
        return _canned_page(ctx, 409, error_text(error))
    return redirect(f"/canned?done={done}")


@route("/canned", methods=("POST",), roles=SUPERVISORS)
def canned_create(ctx: Ctx) -> Response:
    f = ctx.form
    return _canned_action(ctx, lambda conn: store.create_canned(conn, ctx.staff, f.get("language", ""),
                                                                f.get("title", ""), f.get("text", ""), ctx.now))


@route("/canned/{canned_id:int}", methods=("POST",), roles=SUPERVISORS)
def canned_update(ctx: Ctx) -> Response:
    f, canned_id = ctx.form, int(ctx.request.path_params["canned_id"])
    return _canned_action(ctx, lambda conn: store.update_canned(conn, ctx.staff, canned_id, f.get("language", ""),
                                                                f.get("title", ""), f.get("text", ""), ctx.now))


@route("/canned/{canned_id:int}/delete", methods=("POST",), roles=SUPERVISORS)
def canned_delete(ctx: Ctx) -> Response:
    canned_id = int(ctx.request.path_params["canned_id"])
    return _canned_action(ctx, lambda conn: store.delete_canned(conn, ctx.staff, canned_id, ctx.now), "deleted")


# -- staff accounts (admin) ------------------------------------------------------------------------------------

def _staff_page(ctx: Ctx, status: int = 200, error: str | None = None, form: dict | None = None) -> Response:
    with ctx.begin() as conn:
        people = store.list_staff(conn)
    notice = _("Saved.") if ctx.param("done") == "1" and status == 200 else None
    return ctx.render("staff.html", status=status, people=people, error=error, notice=notice, form=form or {})


@route("/staff", roles=ADMINS)
def staff_page(ctx: Ctx) -> Response:
    return _staff_page(ctx)


@route("/staff", methods=("POST",), roles=ADMINS)
def staff_create(ctx: Ctx) -> Response:
    f = ctx.form
    username = f.get("username", "").strip().lower()
    role, language = f.get("role", ""), f.get("language", "en")
    password = f.get("password", "")
    keep = {"username": username, "display_name": f.get("display_name", ""), "role": role, "language": language}
    if not USERNAME_RE.fullmatch(username):
        return _staff_page(ctx, 409, _("A username has 2 to 64 letters, digits, dots, dashes or underscores."), keep)
    if role not in ALL_ROLES or language not in i18n.LANGUAGES:
        return _staff_page(ctx, 409, _("Choose a role and a language."), keep)
    if check_password_policy(password):
        return _staff_page(ctx, 409, _("The password must have at least 10 characters, without spaces at "
                                       "either end."), keep)
    password_hash = ctx.console.passwords.hash(password)  # slow: not inside the transaction
    with ctx.begin() as conn:
        taken = store.staff_login_row(conn, username) is not None
        if not taken:
            staff_id = store.create_staff(conn, username, password_hash, role, ctx.now,
                                          display_name=f.get("display_name", "").strip()[:128], language=language)
            store.audit(conn, ctx.now, ctx.staff, "staff_create", target_id=staff_id, target=username, role=role)
    if taken:  # (a page renders outside the transaction: SQLite allows one writer at a time)
        return _staff_page(ctx, 409, _("That username is taken."), keep)
    return redirect("/staff?done=1")


@route("/staff/{staff_id:int}/active", methods=("POST",), roles=ADMINS)
def staff_active(ctx: Ctx) -> Response:
    staff_id = int(ctx.request.path_params["staff_id"])
    active = ctx.form.get("active") == "1"
    if staff_id == ctx.staff.id and not active:
        return _staff_page(ctx, 409, _("You cannot disable your own account."))
    with ctx.begin() as conn:
        target = store.get_staff(conn, staff_id)
        if target is None:
            raise store.NotFound(staff_id)
        store.set_staff_active(conn, staff_id, active)
        store.audit(conn, ctx.now, ctx.staff, "staff_enable" if active else "staff_disable", target_id=staff_id,
                    target=target.username)
    return redirect("/staff?done=1")
