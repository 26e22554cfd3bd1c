"""Formatting helpers of the console's templates (labels, durations, times, values) and the messages
shown after a case action."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from jinja2 import pass_context
from markupsafe import Markup

from ..text import isolate_html, isolate_ltr
from . import store
from .i18n import L_, _


# -- for the templates ------------------------------------------------------------------

STATUS_LABELS = {"new": L_("New"), "claimed": L_("Claimed"), "waiting": L_("Waiting for user"),
                 "resolved": L_("Resolved"), "reopened": L_("Reopened")}
PRIORITY_LABELS = {"urgent": L_("Urgent"), "high": L_("High"), "normal": L_("Normal")}
REASON_LABELS = {"emergency": L_("Emergency"), "safety_net": L_("Danger words"), "report": L_("Report form"),
                 "human": L_("Asked for a person"), "offer_check": L_("Risky offer check"),
                 "fallback": L_("Not understood")}
ROLE_LABELS = {"agent": L_("Agent"), "supervisor": L_("Supervisor"), "editor": L_("Editor"), "admin": L_("Admin")}
LANGUAGE_LABELS = {"en": L_("English"), "ur": L_("Urdu"), "ur-Latn": L_("Roman Urdu")}
FIELD_LABELS = {"what": L_("What happened"), "who": L_("Agent or company"), "where": L_("Where"),
                "money": L_("Money paid"), "contact": L_("May we contact them"),
                "contact_ok": L_("May we contact them"), "country": L_("Country"), "amount": L_("Amount"),
                "kind": L_("Kind"), "level": L_("Level"), "total": L_("Score"), "answers": L_("Answers"),
                "breakdown": L_("Breakdown")}
DIRECTION_LABELS = {"in": L_("User"), "out": L_("Bot"), "staff": L_("SafeSafar team")}


def _label(table: dict[str, str], value) -> str:
    return _(table[value]) if value in table else str(value if value is not None else "—")


def status_label(value): return _label(STATUS_LABELS, value)  # noqa: E704
def priority_label(value): return _label(PRIORITY_LABELS, value)  # noqa: E704
def reason_label(value): return _label(REASON_LABELS, value)  # noqa: E704
def role_label(value): return _label(ROLE_LABELS, value)  # noqa: E704
def language_label(value): return _label(LANGUAGE_LABELS, value)  # noqa: E704
def field_label(value): return _label(FIELD_LABELS, value)  # noqa: E704
def direction_label(value): return _label(DIRECTION_LABELS, value)  # noqa: E704


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(abs(value).total_seconds() // 60)
    if minutes < 1:
        return _("under 1 min")
    if minutes < 60:
        return _("%(m)s min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)s d %(h)s h") % {"d": days, "h": hours}


def format_when(value, zone=timezone.utc) -> Markup | str:
    """A time in `zone` (the console's: CONSOLE_TIMEZONE, shift_routes.when_filter), e.g. "2026-12-05 20:10
    PKT", kept left-to-right inside right-to-left text; the machine-readable datetime stays UTC."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value  # autoescaped by the template
    value = store.as_utc(value)
    return Markup('<time dir="ltr" datetime="{}">{}</time>').format(
        value.isoformat(), value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"))


def isolated_gettext(gettext):
    """A template gettext callable (Jinja's newstyle one, which formats the translation with its values
    and escapes them) whose output is bidi-isolated where it is right-to-left, in its text nodes only."""
    @pass_context
    def call(context, *args, **variables):
        text = gettext(context, *args, **variables)
        return Markup(isolate_html(str(text))) if isinstance(text, Markup) else isolate_ltr(text)
    return call


def pretty_value(value) -> str:
    """A value of the JSON columns (entities, offer check, report) as short text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, tuple)):
        return ", ".join(pretty_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {pretty_value(v)}" for k, v in value.items()) or "—"
    return str(value)


# -- messages shown after an action -------------------------------------------------------------------------

NOTICES = {
    "claimed": L_("You claimed this case."),
    "taken": L_("You took over this case."),
    "assigned": L_("The case was assigned."),
    "replied": L_("Reply saved: the bot sends it to the person."),
    "noted": L_("Note added."),
    "status": L_("Status changed."),
    "reopened": L_("Case reopened: it is back in the queue."),
    "resolved": L_("Case resolved."),
    "tagged": L_("Tags changed."),
    "relabelled": L_("The message was sent to the learning inbox with your label."),  # learning_routes.py
}
ERRORS = {
    "claim_lost": L_("Someone else claimed this case first."),
    "not_yours": L_("This case is held by %(holder)s. Take it over first if you must act on it."),
    "changed": L_("The case changed in the meantime. Look at it again and retry."),
    "resolved": L_("This case is resolved. Reopen it first."),
    "not_resolved": L_("Only a resolved case can be reopened."),
    "empty": L_("Write something first."),
    "too_long": L_("That is too long: at most %(limit)s characters."),
    "unreachable": L_("This person can no longer be reached (their chat was deleted)."),
    "other_open": L_("This person already has another open case (#%(other)s). Work on that one instead."),
    "other_open_unknown": L_("This person already has another open case. Work on that one instead."),
    "bad_assignee": L_("That person cannot be assigned cases."),
    "bad_status": L_("Unknown status."),
    "bad_language": L_("Unknown language."),
    "no_outcome": L_("Choose what the case led to before resolving it."),
    "bad_tag": L_("Unknown tag."),
    "tag_exists": L_("That tag is already on the list."),
    "too_many_views": L_("You have too many saved views (at most %(limit)s). Delete one first."),
    "own_handover": L_("The next person acknowledges a handover note, not its writer."),
}


def error_text(error: store.CaseError) -> str:
    code = error.code
    detail = {k: v for k, v in error.detail.items()}
    if code == "other_open" and not detail.get("other"):
        code = "other_open_unknown"
    if code == "not_yours":
        detail["holder"] = detail.get("holder") or _("nobody")
    template = _(ERRORS.get(code, ERRORS["changed"]))
    try:
        return template % detail if detail else template
    except (KeyError, TypeError, ValueError):
        return template
