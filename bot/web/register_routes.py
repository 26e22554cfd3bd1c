"""The console's import page for the OEP register (supervisors and admins): upload saved pages of BE&OE's
list of OEPs (HTML), CSV files or notices; see what changes (new, gone, status changed, expiry moved,
notices and the name matches to confirm) before applying it, all or nothing; the history of imports.
Applying and discarding are audit-logged. The same code as `safesafar register import`
(bot/storage/register_store.py)."""
from __future__ import annotations

from datetime import date

from starlette.responses import Response

from ..register.parse import parse_files
from ..storage import register_store as rs
from .framework import SUPERVISORS, Ctx, redirect, route
from .i18n import L_, _

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 100 * 1024 * 1024
MAX_FILES = 200
NOTICES = {"applied": L_("The import was applied: the bot now checks agencies against it."),
           "discarded": L_("The import was discarded: nothing changed.")}


def _page(ctx: Ctx, status: int = 200, error: str | None = None, problems: list | None = None,
          register_date: str = "") -> Response:
    with ctx.begin() as conn:
        history = rs.history(conn)
        current = rs.current_import(conn)
    applied = next((h for h in history if h["id"] == current), None)
    notice = _(NOTICES[ctx.param("done")]) if ctx.param("done") in NOTICES and status == 200 else None
    return ctx.render("register.html", status=status, history=history, current=applied, error=error,
                      problems=problems or [], notice=notice, register_date=register_date or ctx.now.date().isoformat())


@route("/register", roles=SUPERVISORS)
def register_page(ctx: Ctx) -> Response:
    return _page(ctx)


def _uploads(ctx: Ctx) -> list[tuple[str, bytes]]:
    return [(name, data) for name, data in getattr(ctx.request.state, "uploads", []) if name or data]


@route("/register/import", methods=("POST",), roles=SUPERVISORS)
def register_upload(ctx: Ctx) -> Response:
    """Files arrive in request.state.uploads (the endpoint reads up to `uploads` files for this route)."""
    day = ctx.form.get("register_date", "").strip()
    try:
        register_date = date.fromisoformat(day)
    except ValueError:
        return _page(ctx, 400, _("Give the date the pages were saved, like 2026-12-05."), register_date=day)
    files = _uploads(ctx)
    if not files:
        return _page(ctx, 400, _("Choose at least one file."), register_date=day)
    if any(len(data) > MAX_FILE_BYTES for _name, data in files) or sum(len(d) for _n, d in files) > MAX_TOTAL_BYTES:
        return _page(ctx, 400, _("The files are too large: at most 20 MB each and 100 MB together."),
                     register_date=day)
    parsed = parse_files(files)
    try:
        staged = rs.stage(ctx.console.engine, parsed, register_date, ctx.staff.username, now=ctx.now,
                          today=ctx.now.date())
    except rs.ImportRefused as exc:
        message = _("Nothing was imported: the files have problems. Correct them and upload them again.") \
            if exc.errors else _("Nothing was imported: the files hold no agencies and no notices.")
        return _page(ctx, 400, message, problems=[str(e) for e in exc.errors[:200]], register_date=day)
    return redirect(f"/register/imports/{staged.import_id}")


register_upload.uploads = MAX_FILES


def _import_id(ctx: Ctx) -> int:
    return int(ctx.request.path_params["import_id"])


def _preview_page(ctx: Ctx, import_id: int, status: int = 200, error: str | None = None) -> Response:
    from .store import NotFound

    with ctx.begin() as conn:
        found = rs.preview(conn, import_id, ctx.now.date())
    if found is None:
        raise NotFound(import_id)
    head, result, notices = found
    return ctx.render("register_preview.html", status=status, imp=head, diff=result, notices=notices, error=error,
                      limit=300)


@route("/register/imports/{import_id:int}", roles=SUPERVISORS)
def register_preview(ctx: Ctx) -> Response:
    return _preview_page(ctx, _import_id(ctx))


@route("/register/imports/{import_id:int}/apply", methods=("POST",), roles=SUPERVISORS)
def register_apply(ctx: Ctx) -> Response:
    import_id = _import_id(ctx)
    accept = {int(key.removeprefix("accept_")) for key, value in ctx.form.items()
              if key.startswith("accept_") and key.removeprefix("accept_").isdigit() and value == "1"}
    try:
        rs.apply(ctx.console.engine, import_id, ctx.staff.username, accept_names=accept, now=ctx.now,
                 staff_id=ctx.staff.id)
    except rs.ImportRefused as exc:
        return _preview_page(ctx, import_id, 409, str(exc))
    return redirect("/register?done=applied")


@route("/register/imports/{import_id:int}/discard", methods=("POST",), roles=SUPERVISORS)
def register_discard(ctx: Ctx) -> Response:
    import_id = _import_id(ctx)
    if not rs.discard(ctx.console.engine, import_id, ctx.staff.username, now=ctx.now, staff_id=ctx.staff.id):
        return _preview_page(ctx, import_id, 409, _("This import is not waiting for a decision."))
    return redirect("/register?done=discarded")
