"""The rest of the console for a long shift (issue 22): tags (supervisors keep the list, case workers tag
cases and filter the queue by them), saved queue views per person, the shift-handover note, a suggested
closing message on resolve (from the outcome, in the case's language), each person's time zone, the bot's
summary line in the interface's language, and photos, voice notes and documents a user sent, fetched through
the bot (Bot API getFile) on demand. SQL: desk_store.py; media: media.py."""
from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from jinja2 import pass_context
from starlette.responses import Response

from ..hotline.policy import fired_of
from ..i18n import default_i18n
from . import desk_store as ds
from . import shift_routes, store
from .case_routes import _act, _case_id
from .formatting import REASON_LABELS, error_text, format_when, language_label, reason_label
from .framework import CASE_ROLES, SUPERVISORS, Ctx, Policy, redirect, route
from .i18n import L_, _

TAG_KIND_LABELS = {"route": L_("Route"), "destination": L_("Destination"), "agent": L_("Agent or agency"),
                   "other": L_("Other")}
VIEW_FIELDS = ("view", "language", "priority", "reason", "tag", "overdue")


shift_routes._AUDIT_VALUES["kind"] = TAG_KIND_LABELS  # the audit log in words


MEDIA_LABELS = {"voice": L_("voice message"), "audio": L_("audio file"), "video_note": L_("video message"),
                "video": L_("video"), "photo": L_("photo"), "sticker": L_("sticker"), "animation": L_("GIF"),
                "document": L_("document"), "location": L_("location"), "venue": L_("location"),
                "contact": L_("contact"), "poll": L_("poll"), "message": L_("media")}


def media_label(kind) -> str:
    return _(MEDIA_LABELS.get(kind, MEDIA_LABELS["message"]))


def tag_kind_label(kind) -> str:
    return _(TAG_KIND_LABELS[kind]) if kind in TAG_KIND_LABELS else str(kind)


# -- time zones: the console's (CONSOLE_TIMEZONE) unless the person chose theirs -------------------------------

@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def staff_zone(staff, default: str) -> ZoneInfo:
    """The person's time zone (Settings), else the console's."""
    chosen = ((staff.prefs or {}).get("timezone") if staff is not None else None) or ""
    return (_zone(chosen) if chosen in zone_names() else None) or _zone(default) or ZoneInfo("UTC")


def when_filter(default: str):
    """The templates' `when`: a time in the zone of the person looking at it."""
    @pass_context
    def when(context, value):
        return format_when(value, zone=staff_zone(context.get("staff"), default))
    return when


# -- the bot's summary line, in the interface's language ---------------------------------------------------------

_FIRED_WORDS = [
    (re.compile(r"asked earlier, answered yes"), L_("asked earlier, answered yes")),
    (re.compile(r"asked, answered yes"), L_("asked, answered yes")),
    (re.compile(r"(\w+) danger phrase ×(\d+)"), L_("%(kind)s danger phrases: %(count)s")),
    (re.compile(r"\burgency model\b"), L_("urgency model")),
    (re.compile(r"\bclassifier\b"), L_("classifier")),
    (re.compile(r"p\(danger now\) ([0-9.]+)"), L_("danger-now probability %(p)s")),
    (re.compile(r"p\(emergency\) ([0-9.]+)"), L_("emergency probability %(p)s")),
]
_PHRASE_KINDS = {"danger": L_("danger"), "forced": L_("forced labour"), "trafficking": L_("trafficking")}
_OFFER_LEVELS = {"low": L_("low risk"), "medium": L_("medium risk"), "high": L_("high risk"), "unclear": L_("unclear")}
_OFFER_KINDS = {"job": L_("job"), "study": L_("study")}


def _fired_words(fired: str) -> str:
    parts = []
    for part in fired.split(" · "):
        for pattern, words in _FIRED_WORDS:
            match = pattern.search(part)
            if match:
                groups = match.groups()
                values = {}
                if len(groups) == 2:
                    values = {"kind": _(_PHRASE_KINDS[groups[0]]) if groups[0] in _PHRASE_KINDS else groups[0],
                              "count": groups[1]}
                elif len(groups) == 1:
                    values = {"p": groups[0]}
                part = pattern.sub(lambda _m: _(words) % values if values else _(words), part)
        parts.append(part)
    return " · ".join(parts)


def summary_words(case: dict) -> str:
    """The bot's one-line summary (hotline/policy.summary, written in English) in the interface's language,
    rebuilt from the case's fields: reason, language, countries named, a request for a woman counsellor,
    the offer check's level, and what fired."""
    parts = [reason_label(case.get("reason")), language_label(case.get("language"))]
    entities = case.get("entities") if isinstance(case.get("entities"), dict) else {}
    countries = list(reversed(entities.get("country") or []))[:3]
    if countries:
        parts.append(", ".join(str(c) for c in countries))
    if "female counsellor" in (entities.get("request") or []):
        parts.append(_("asks for a woman counsellor"))
    offer = case.get("offer_check") if isinstance(case.get("offer_check"), dict) else {}
    if offer.get("level"):
        kind = offer.get("kind")
        level = _(_OFFER_LEVELS[offer["level"]]) if offer["level"] in _OFFER_LEVELS else str(offer["level"])
        parts.append(_("offer check (%(kind)s): %(level)s") % {
            "kind": _(_OFFER_KINDS[kind]) if kind in _OFFER_KINDS else str(kind or "—"), "level": level})
    fired = fired_of(case.get("summary") or "")
    if fired:
        parts.append(_("fired: %(what)s") % {"what": _fired_words(fired)})
    return " · ".join(parts)


# -- a suggested closing message, in the case's language (the bot's catalogs: en, ur, ur-Latn) ---------------------

def N_(message: str) -> str:  # noqa: N802 - marks a message of the bot's catalogs (messages.po)
    return message


CLOSING = {
    "referred_fia": N_("Thank you for talking to us. As we discussed, the FIA can take up what happened to you. "
                       "You can write here again at any time."),
    "referred_1122": N_("Thank you for talking to us. If you are in danger, call 1122 now. You can write here again "
                        "at any time."),
    "referred_embassy": N_("Thank you for talking to us. As we discussed, the embassy can help you where you are. "
                           "You can write here again at any time."),
    "referred_mrc": N_("Thank you for talking to us. As we discussed, a Migrant Resource Centre (MRC) can advise "
                       "you on safe migration for free. You can write here again at any time."),
    "information": N_("Thank you for talking to us. We hope the information helps. You can write here again at "
                      "any time."),
    "no_contact": N_("We could not reach you, so we are closing this conversation for now. You can write here "
                     "again at any time."),
    "duplicate": N_("We are answering you in your other conversation with us, so we are closing this one. You can "
                    "write here again at any time."),
}


def closing_suggestions(language: str | None) -> dict[str, str]:
    """outcome -> the suggested closing message in the case's language (English when it has none)."""
    i18n = default_i18n()
    language = language if language in ("en", "ur", "ur-Latn") else "en"
    return {outcome: i18n.tr(language, text) for outcome, text in CLOSING.items()}


TEMPLATE_GLOBALS = {"tag_kind_label": tag_kind_label, "summary_words": summary_words, "TAG_KINDS": ds.TAG_KINDS,
                    "closing_suggestions": closing_suggestions, "REASONS": tuple(REASON_LABELS),
                    "view_query": lambda filters: view_query(filters), "media_label": media_label}


def queue_flags(ctx: Ctx) -> dict:
    """What the queue page says after saving a handover note or a view (redirected here), or why not."""
    code = ctx.param("handover_error") or ctx.param("view_error")
    error = error_text(store.CaseError(code, limit=ds.MAX_VIEWS if code == "too_many_views" else ds.MAX_HANDOVER)) \
        if code in ("empty", "too_long", "own_handover", "too_many_views") else None
    return {"flag_error": error, "handover_saved": ctx.param("handover") == "1", "view_saved": ctx.param("saved") == "1"}


def case_extras(conn, case: dict) -> dict:
    return {"tags": ds.case_tag_list(conn, case["id"]), "all_tags": ds.list_tags(conn)}


def queue_extras(conn, staff_id: int) -> dict:
    return {"saved_views": ds.list_views(conn, staff_id), "all_tags": ds.list_tags(conn),
            "handovers": ds.open_handovers(conn, staff_id), "my_handovers": ds.my_open_handovers(conn, staff_id)}


def annotate_tags(conn, rows: list[dict]) -> None:
    by_case = ds.tags_of_cases(conn, [r["id"] for r in rows])
    for row in rows:
        row["tags"] = by_case.get(row["id"], [])


# -- tags ----------------------------------------------------------------------------------------------------------

def _tags_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    with ctx.begin() as conn:
        tags = ds.list_tags(conn)
    notice = {"1": _("Saved."), "deleted": _("Deleted.")}.get(ctx.param("done")) if status == 200 else None
    return ctx.render("tags.html", status=status, tags=tags, error=error, notice=notice)


@route("/tags", roles=SUPERVISORS)
def tags_page(ctx: Ctx) -> Response:
    return _tags_page(ctx)


@route("/tags", methods=("POST",), roles=SUPERVISORS)
def tag_create(ctx: Ctx) -> Response:
    try:
        with ctx.begin() as conn:
            ds.create_tag(conn, ctx.staff, ctx.form.get("kind", ""), ctx.form.get("name", ""), ctx.now)
    except store.CaseError as error:
        return _tags_page(ctx, 409, error_text(error))
    return redirect("/tags?done=1")


@route("/tags/{tag_id:int}/delete", methods=("POST",), roles=SUPERVISORS)
def tag_delete(ctx: Ctx) -> Response:
    with ctx.begin() as conn:
        ds.delete_tag(conn, ctx.staff, int(ctx.request.path_params["tag_id"]), ctx.now)
    return redirect("/tags?done=deleted")


@route("/cases/{case_id:int}/tags", methods=("POST",))
def case_tag(ctx: Ctx) -> Response:
    """Any case worker tags a case (held by anyone: a tag changes nothing the user sees)."""
    tag_id = ctx.int_field("tag_id")
    add = ctx.form.get("action", "add") != "remove"
    return _act(ctx, lambda conn, case_id: ds.tag_case(conn, case_id, ctx.staff, tag_id, add, ctx.now), "tagged")


# -- saved views -------------------------------------------------------------------------------------------------

def view_query(filters: dict) -> str:
    from urllib.parse import urlencode

    return "/queue?" + urlencode({k: "1" if v is True else v for k, v in filters.items()
                                  if k in VIEW_FIELDS and v not in ("", None, False)})


@route("/views", methods=("POST",))
def view_save(ctx: Ctx) -> Response:
    from . import shift_routes

    f = ctx.form
    filters = shift_routes.clean_filters(f.get("view", ""), f.get("language", ""), f.get("priority", ""),
                                         f.get("reason", ""), f.get("tag", ""), f.get("overdue") == "1")
    try:
        with ctx.begin() as conn:
            ds.save_view(conn, ctx.staff, f.get("name", ""), filters, ctx.now)
    except store.CaseError as error:
        return redirect(view_query(filters) + "&view_error=" + error.code)
    return redirect(view_query(filters) + "&saved=1")


@route("/views/{view_id:int}/delete", methods=("POST",))
def view_delete(ctx: Ctx) -> Response:
    with ctx.begin() as conn:
        ds.delete_view(conn, ctx.staff, int(ctx.request.path_params["view_id"]))
    return redirect("/queue")


# -- shift handover ------------------------------------------------------------------------------------------------

@route("/handover", methods=("POST",))
def handover_write(ctx: Ctx) -> Response:
    try:
        with ctx.begin() as conn:
            ds.write_handover(conn, ctx.staff, ctx.form.get("text", ""), ctx.now)
    except store.CaseError as error:
        return redirect("/queue?handover_error=" + error.code)
    return redirect("/queue?handover=1")


@route("/handover/{note_id:int}/ack", methods=("POST",))
def handover_ack(ctx: Ctx) -> Response:
    try:
        with ctx.begin() as conn:
            ds.acknowledge_handover(conn, ctx.staff, int(ctx.request.path_params["note_id"]), ctx.now)
    except store.CaseError as error:
        return redirect("/queue?handover_error=" + error.code)
    return redirect("/queue")


# -- media through the bot -------------------------------------------------------------------------------------------

@route("/cases/{case_id:int}/media/{message_id:int}", roles=CASE_ROLES)
def case_media(ctx: Ctx) -> Response:
    """A photo, voice note or document of the case's user, fetched through the bot on demand and streamed:
    the bot's token stays on the server, nothing is kept (the answer is not cached)."""
    from . import media

    case_id, message_id = _case_id(ctx), int(ctx.request.path_params["message_id"])
    with ctx.begin() as conn:
        store.get_case(conn, case_id)
        found = media.message_file(conn, case_id, message_id)
        if found is None:
            raise store.NotFound(message_id)
        store.audit(conn, ctx.now, ctx.staff, "media_view", case_id, message=message_id)
    kind, file_id = found
    settings = ctx.console.settings
    try:
        return media.stream(settings.telegram_api_base_url, settings.telegram_token, file_id, kind,
                            download=ctx.param("download") == "1", filename=f"case-{case_id}-{message_id}")
    except media.MediaError as error:
        return ctx.console.refuse(ctx, Policy(CASE_ROLES), error.status, error.message)
