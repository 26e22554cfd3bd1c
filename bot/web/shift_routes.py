"""The console for a long shift: the pulse every page polls (title count, sound, browser notification for new
cases), each person's settings (notifications, sound, Urdu font), what waits for the hotline in the queue
and on the case page, delivery states of replies, and resolving with an outcome. SQL: shift_store.py."""
from __future__ import annotations


from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from . import shift_store as ss
from . import store
from .case_routes import _act
from .formatting import LANGUAGE_LABELS, PRIORITY_LABELS, REASON_LABELS, ROLE_LABELS, STATUS_LABELS
from .framework import ALL_ROLES, CASE_ROLES, Ctx, Policy, redirect, route, safe_next
from .i18n import L_, _

OUTCOME_LABELS = {"referred_fia": L_("Referred to the FIA"), "referred_1122": L_("Referred to 1122 (emergency)"),
                  "referred_embassy": L_("Referred to an embassy"),
                  "referred_mrc": L_("Referred to a Migrant Resource Centre (MRC)"),
                  "information": L_("Information given"), "no_contact": L_("No contact with the person"),
                  "duplicate": L_("Duplicate of another case")}
DELIVERY_LABELS = {"pending": L_("pending"), "sent": L_("sent"), "failed": L_("failed")}


def outcome_label(value) -> str:
    return _(OUTCOME_LABELS[value]) if value in OUTCOME_LABELS else "—"


def delivery_label(value) -> str:
    return _(DELIVERY_LABELS[value]) if value in DELIVERY_LABELS else ""


OFFER_KINDS = {"job": L_("A job abroad"), "study": L_("Study abroad")}


def _label_or(table: dict, value) -> str:
    return _(table[value]) if value in table else str(value if value is not None else "—")


AUDIT_ACTIONS = {
    "login": L_("Logged in"), "login_failed": L_("Failed login"), "login_throttled": L_("Logins blocked for a while"),
    "logout": L_("Logged out"), "case_opened": L_("Case opened by the bot"), "priority_raised": L_("Priority raised"),
    "claim": L_("Claimed the case"), "takeover": L_("Took over the case"), "assign": L_("Assigned the case"),
    "reply": L_("Replied to the user"), "note": L_("Added a note"), "status": L_("Changed the status"),
    "canned_seed": L_("Canned replies created"), "canned_create": L_("Added a canned reply"),
    "canned_update": L_("Changed a canned reply"), "canned_delete": L_("Deleted a canned reply"),
    "staff_create": L_("Created a staff account"), "staff_enable": L_("Enabled a staff account"),
    "staff_disable": L_("Disabled a staff account"), "staff_password": L_("Set a new password"),
    "staff_role": L_("Changed a role"), "settings": L_("Changed their settings"),
    "register_import": L_("Applied an OEP register import"), "register_discard": L_("Discarded an OEP register import"),
    "tag_create": L_("Added a tag to the list"), "tag_delete": L_("Removed a tag from the list"),
    "tag_add": L_("Tagged the case"), "tag_remove": L_("Removed a tag from the case"),
    "handover_write": L_("Wrote a shift-handover note"), "handover_ack": L_("Acknowledged a shift-handover note"),
    "media_view": L_("Viewed a file the user sent"),
    "nlu_retrain": L_("Started retraining the NLU model"), "nlu_promote": L_("Served a new NLU model"),
    "nlu_rollback": L_("Rolled back the NLU model"),
    # the content workbench (issue 19)
    "content_seed": L_("Added content from the files"), "content_save": L_("Saved a content draft"),
    "content_revert": L_("Reverted content to an earlier version"),
    "content_import": L_("Imported content as drafts"), "content_submit": L_("Sent a content change for review"),
    "content_publish": L_("Approved and published a content change"),
    "content_reject": L_("Rejected a content change"),
    "content_save_refused": L_("Refused: saving a content change"),
    "content_approve_refused": L_("Refused: approving a content change"),
    "content_reject_refused": L_("Refused: rejecting a content change"),
    "content_po_export": L_("Exported texts for translators (PO file)"),
}
AUDIT_FIELDS = {"previous": L_("before"), "status": L_("now"), "outcome": L_("outcome"), "to": L_("to"),
                "reason": L_("reason"), "address": L_("address"), "length": L_("characters"),
                "title": L_("title"), "language": L_("language"), "target": L_("account"), "role": L_("role"),
                "priority": L_("priority"), "count": L_("count"), "minutes": L_("minutes"), "scope": L_("limit by"),
                "kind": L_("kind"), "timezone": L_("time zone"), "key": L_("item"), "version": L_("version"),
                "note": L_("note"), "items": L_("items")}
_AUDIT_VALUES = {"status": STATUS_LABELS, "previous": STATUS_LABELS, "outcome": OUTCOME_LABELS,
                 "priority": PRIORITY_LABELS, "reason": REASON_LABELS, "role": ROLE_LABELS,
                 "language": LANGUAGE_LABELS}


def audit_words(action: str, detail: dict | None) -> tuple[str, list[tuple[str, str]]]:
    """An audit row in words: the action's label and its details as (label, value) pairs; ids and unknown
    keys are left out of the words (the raw row stays in the database and in the row's title)."""
    label = _label_or(AUDIT_ACTIONS, action)
    pairs = []
    for key, value in (detail or {}).items():
        if key not in AUDIT_FIELDS or value in (None, ""):
            continue
        table = _AUDIT_VALUES.get(key)
        shown = _(table[value]) if table and value in table else str(value)
        pairs.append((_(AUDIT_FIELDS[key]), shown))
    return label, pairs


KIND_LABELS = {"button": L_("button"), "command": L_("command"), "media": L_("media")}
RISK_LABELS = {"low": L_("Low risk"), "medium": L_("Medium risk"), "high": L_("High risk"),
               "unclear": L_("Unclear: too many answers were \"not sure\"")}


def words_globals(content_dir) -> dict:
    """Template helpers that put button presses and offer-check answers into words (words.py)."""
    from .words import Words

    words = Words(content_dir)

    def button_words(payload, language, kind=None):
        try:
            return words.button(str(payload), language or "en", kind)
        except Exception:  # noqa: BLE001  (content being edited: show the payload as it is)
            return None

    def offer_answers(offer_check, language):
        try:
            return words.offer_answers(offer_check or {}, language or "en")
        except Exception:  # noqa: BLE001
            return []

    def risk_label(level):
        return _(RISK_LABELS[level]) if level in RISK_LABELS else str(level or "—")

    def kind_label(kind):
        return _(KIND_LABELS[kind]) if kind in KIND_LABELS else str(kind)

    return {"button_words": button_words, "offer_answers": offer_answers, "risk_label": risk_label,
            "kind_label": kind_label, "audit_words": audit_words, "offer_kind_label": lambda kind: _label_or(OFFER_KINDS, kind)}


def is_urdu(text) -> bool:
    """Text in Arabic script (Urdu here): marked lang="ur" so that it gets Urdu's line height and font."""
    return any("\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff" for ch in str(text or ""))


TEMPLATE_GLOBALS = {"is_urdu": is_urdu, "outcome_label": outcome_label, "delivery_label": delivery_label, "CASE_ROLES": CASE_ROLES}


def clean_filters(view: str, language: str, priority: str, reason: str = "", tag: str = "",
                  overdue: bool = False) -> dict:
    """The queue's filters, unknown values dropped: view, language, priority, reason, tag (an id), overdue."""
    return {"view": view if view in store.VIEWS else "", "language": language if language in LANGUAGE_LABELS else "",
            "priority": priority if priority in PRIORITY_LABELS else "",
            "reason": reason if reason in REASON_LABELS else "",
            "tag": tag if tag.isdigit() and len(tag) < 10 else "", "overdue": bool(overdue)}


def queue_filters(ctx: Ctx) -> dict:
    """The queue's filters from the query string (unknown values are ignored)."""
    filters = clean_filters(ctx.param("view"), ctx.param("language"), ctx.param("priority"), ctx.param("reason"),
                            ctx.param("tag"), ctx.param("overdue") == "1")
    del filters["view"]
    return filters


def queue_rows(conn, view: str, rows: list[dict], now, filters: dict | None = None) -> list[dict]:
    """The queue's rows with their timing, what waits for whom and their tags, filtered, in the order of the
    view (shift_store.sort_rows)."""
    from . import desk_routes, desk_store

    filters = filters or {}
    tagged = desk_store.cases_with_tag(conn, int(filters["tag"])) if filters.get("tag") else None
    rows = [r for r in rows if (not filters.get("language") or r["language"] == filters["language"])
            and (not filters.get("priority") or r["priority"] == filters["priority"])
            and (not filters.get("reason") or r["reason"] == filters["reason"])
            and (tagged is None or r["id"] in tagged)]
    ss.annotate(conn, rows, now)
    desk_routes.annotate_tags(conn, rows)
    for row in rows:
        row["timing"] = store.timing(row, now)
    if filters.get("overdue"):
        rows = [r for r in rows if r["timing"]["overdue"] or r["reply_overdue"]]
    return ss.sort_rows(view, rows)


def case_extras(conn, case: dict, now) -> dict:
    """For the case page: delivery states of hotline replies, waiting times and contact warnings, outcomes."""
    ss.annotate(conn, [case], now)
    from . import desk_routes

    return {"delivery": ss.delivery(conn, case["id"]), "last_from_user": ss.last_message_from_user(conn, case["id"]),
            "outcomes": ss.OUTCOMES, "history": ss.person_history(conn, case), **desk_routes.case_extras(conn, case)}


async def not_found(request, exc) -> Response:
    """An unknown URL: the styled error page in the person's language (JSON under /api/)."""
    from starlette.concurrency import run_in_threadpool

    from . import i18n
    from .auth import LANGUAGE_COOKIE

    console = request.app.state.console

    def page() -> Response:
        ctx = Ctx(console, request, {}, i18n.interface_language(request.cookies.get(LANGUAGE_COOKIE)))
        ctx.session, ctx.staff = console.current_session(request)
        if ctx.staff is not None:
            ctx.lang = i18n.interface_language(ctx.staff.language)
        policy = Policy(ALL_ROLES, api=request.url.path.startswith("/api/"))
        return console.refuse(ctx, policy, 404, L_("There is no such page or case."))
    return await run_in_threadpool(page)


@route("/api/pulse", api=True)
def pulse_api(ctx: Ctx) -> Response:
    """What every page of a case worker polls: unassigned cases (the title count, notifications for new ones)."""
    with ctx.begin() as conn:
        data = ss.pulse(conn, ctx.staff.id, ctx.now)
    return JSONResponse(data)


@route("/settings", roles=ALL_ROLES)
def settings_page(ctx: Ctx) -> Response:
    from .desk_routes import zone_names

    notice = _("Saved.") if ctx.param("done") == "1" else None
    return ctx.render("settings.html", prefs=ctx.staff.prefs or {}, notice=notice, fonts=ss.URDU_FONTS,
                      zones=zone_names(), console_zone=ctx.console.settings.console_timezone)


@route("/settings", methods=("POST",), roles=ALL_ROLES)
def settings_save(ctx: Ctx) -> Response:
    from .desk_routes import zone_names

    f = ctx.form
    with ctx.begin() as conn:
        prefs = ss.set_prefs(conn, ctx.staff, f.get("notify") == "1", f.get("sound") == "1", f.get("urdu_font", ""),
                             f.get("timezone", ""), zone_names())
        store.audit(conn, ctx.now, ctx.staff, "settings", **prefs)
    return redirect(safe_next(f.get("next")) if f.get("next") else "/settings?done=1")


@route("/cases/{case_id:int}/resolve", methods=("POST",))
def resolve(ctx: Ctx) -> Response:
    """Resolves with an outcome; a closing message (suggested from the outcome, edited or not) is sent first,
    in the same transaction: both happen or neither."""
    outcome = ctx.form.get("outcome", "")
    closing = ctx.form.get("closing", "").strip()

    def action(conn, case_id):
        if outcome not in ss.OUTCOMES:
            raise store.CaseError("no_outcome")
        if closing:
            store.reply(conn, case_id, ctx.staff, closing, ctx.now, ctx.console.case_text)
        store.resolve(conn, case_id, ctx.staff, outcome, ctx.now)
    return _act(ctx, action, "resolved")


@route("/search")
def search(ctx: Ctx) -> Response:
    """Find cases: a case number ("12" or "#12") opens the case; other text searches summaries, report forms,
    entities and messages."""
    text = ctx.param("q").strip()[:200]
    number = text.lstrip("#")
    if number.isdigit() and len(number) < 10:
        with ctx.begin() as conn:
            found = conn.execute(select(store.cases.c.id).where(store.cases.c.id == int(number))).scalar()
        if found is not None:
            return redirect(f"/cases/{found}")
    rows: list[dict] = []
    if len(text) >= 2:
        with ctx.begin() as conn:
            rows = ss.annotate(conn, ss.search(conn, text), ctx.now)
        for row in rows:
            row["timing"] = store.timing(row, ctx.now)
    return ctx.render("search.html", q=text, rows=rows, searched=len(text) >= 2)
