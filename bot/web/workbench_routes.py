"""The content editors' workbench (issue 19): the topics list with each language's state, the topic editor
(every language side by side with a live preview of what Telegram shows), the facts, the other texts
(offer check, danger lexicon, glossary, countries), the review queue for publishers, the history of every
item with per-language diffs and revert, the conflict page of a stale save, and the translators' PO files.

Editors draft; publishers approve and publish; nobody approves their own change (the editorial domain,
bot/editorial/, enforces it and the four-eyes rule). The pages only call it: a save is validated by the
same checks as `safesafar content check` and errors are shown at their field."""
from __future__ import annotations

import re

from starlette.responses import JSONResponse, Response

from ..dialogue.content import Content, ContentStore
from . import preview as pv
from . import workbench as wb
from .framework import Ctx, route
from .i18n import L_, _

VIEWERS = ("agent", "supervisor", "editor", "admin")  # the list and the pages are readable by all staff
EDITORS = ("editor", "supervisor", "admin")  # who drafts
PUBLISHERS = ("supervisor", "admin")  # who approves and publishes
TOPIC_ID = re.compile(r"^[a-z0-9_]{1,64}$")
FIELD_NAMES = {"title": L_("Title"), "answer": L_("Answer (first message)"), "more": L_("More (details)"),
               "keywords": L_("Keywords"), "intents": L_("Intents"), "buttons": L_("Buttons"),
               "sources": L_("Sources"), "placeholders": L_("Notes for editors (what to check)"),
               "menu": L_("Place in the topics menu"), "reviewed": L_("Reviewed on"),
               "needs_review": L_("Needs review")}

_stores: dict[str, ContentStore] = {}


def content(ctx: Ctx) -> Content:
    """The content snapshot the bot serves."""
    root = ctx.console.settings.content_dir
    store = _stores.get(str(root))
    if store is None:
        store = _stores[str(root)] = ContentStore(root)
    return store.get()


def field_name(name: str) -> str:
    return _(FIELD_NAMES[name]) if name in FIELD_NAMES else name


def flag_label(flag: str) -> str:
    return _(wb.FLAGS[flag]) if flag in wb.FLAGS else flag


TEMPLATE_GLOBALS = {"field_name": field_name, "flag_label": flag_label, "field_key": wb.field_key}


def _topic_id(ctx: Ctx) -> str:
    from .store import NotFound

    topic_id = ctx.request.path_params["topic_id"]
    if not TOPIC_ID.match(topic_id):
        raise NotFound(topic_id)
    return topic_id


# -- the topics list ------------------------------------------------------------------------------------

@route("/content", roles=VIEWERS)
def topics_page(ctx: Ctx) -> Response:
    snapshot = content(ctx)
    flag = ctx.param("flag") if ctx.param("flag") in wb.FILTERS else ""
    query = ctx.param("q")[:200]
    rows = wb.topic_rows(snapshot, ctx.now.date(), "ur" if ctx.lang == "ur" else "en", drafts=set(), flag=flag,
                         query=query)
    return ctx.render("workbench_topics.html", rows=rows, filters=wb.FILTERS, flag=flag, q=query,
                      languages=list(snapshot.languages))


# -- the topic editor -----------------------------------------------------------------------------------

COMMON_FIELDS = (("intents", L_("Intents (comma-separated)"), 0, None),
                 ("buttons", L_("Buttons"), 4, L_("One a line: “topic: ID” or “action: NAME” (human, hotline, "
                                                 "offer_check, report, menu, language, topics).")),
                 ("sources", L_("Sources"), 5, L_("One a line: publisher | title | link | date (YYYY-MM-DD).")),
                 ("placeholders", L_("Notes for editors (what to check)"), 3, L_("One a line.")),
                 ("menu", L_("Place in the topics menu"), 0, L_("A number; empty: not in the menu.")))


def _editor(ctx: Ctx, topic_id: str, form: dict[str, str] | None = None, errors: dict | None = None,
            status: int = 200, base: str = "", version: int | None = None, pending=None) -> Response:
    snapshot = content(ctx)
    topic = snapshot.topics.get(topic_id)
    languages = list(snapshot.languages)
    if form is None:
        form = wb.topic_form(topic, languages)
    data, _form_errors = wb.topic_data(topic_id, form, languages)
    draft = pv.topic_from(data)
    previews = {code: pv.preview_topic(snapshot, draft, code) for code in languages}
    missing = {code: wb.missing_fields(draft, code) for code in languages}
    missing = {code: fields for code, fields in missing.items() if fields}
    rtl = {code for code, lang in snapshot.languages.items() if lang.rtl}
    common = [(name, _(label), rows, _(hint) if hint else "") for name, label, rows, hint in COMMON_FIELDS]
    return ctx.render("workbench_topic.html", status=status, topic_id=topic_id, kind="topic", form=form,
                      errors=errors or {}, previews=previews, missing=missing, languages=languages,
                      rtl_languages=rtl, common_fields=common, base=base, version=version, pending=pending)


@route("/content/topics/{topic_id}", roles=VIEWERS)
def topic_page(ctx: Ctx) -> Response:
    topic_id = _topic_id(ctx)
    if topic_id not in content(ctx).topics:
        from .store import NotFound

        raise NotFound(topic_id)
    return _editor(ctx, topic_id)


@route("/api/content/preview/{topic_id}", methods=("POST",), roles=EDITORS, api=True)
def topic_preview(ctx: Ctx) -> Response:
    """The editor's form as it is now -> each language's preview (HTML fragments) and its missing fields."""
    topic_id = _topic_id(ctx)
    snapshot = content(ctx)
    data, errors = wb.topic_data(topic_id, ctx.form, list(snapshot.languages))
    draft = pv.topic_from(data)
    out = {}
    for code in snapshot.languages:
        shown = pv.preview_topic(snapshot, draft, code)
        out[code] = {"key": wb.field_key(code), "words": shown.words, "over": shown.over,
                     "missing": wb.missing_fields(draft, code),
                     "html": ctx.console.env.get_template("_workbench_preview.html").render(
                         p=shown)}
    return JSONResponse({"languages": out, "errors": errors})
