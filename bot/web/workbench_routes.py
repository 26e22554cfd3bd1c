"""The content editors' workbench (issue 19): the topics list with each language's state, the topic editor
(every language side by side with a live preview of what Telegram shows), the facts, the other texts
(offer check, danger lexicon, glossary, countries), the review queue for publishers, the history of every
item with per-language diffs and revert, the conflict page of a stale save, and the translators' PO files.

Editors draft; publishers approve and publish; nobody approves their own change (the editorial domain,
bot/editorial/, enforces it and the four-eyes rule). The pages only call it: a save is validated by the
same checks as `safesafar content check` and errors are shown at their field."""
from __future__ import annotations

import re
import threading
from urllib.parse import quote

from markupsafe import Markup
from starlette.responses import JSONResponse, Response

from ..dialogue.content import Content
from ..editorial import model as em
from ..editorial.layout import item_data
from . import diffs
from . import preview as pv
from . import translation
from . import workbench as wb
from .framework import Ctx, redirect, route
from .i18n import L_, _

VIEWERS = ("agent", "supervisor", "editor", "admin")  # the list and the pages are readable by all staff
EDITORS = em.EDITORS  # who drafts: editors, supervisors, admins
PUBLISHERS = em.PUBLISHERS  # who approves and publishes: supervisors and admins
TOPIC_ID = re.compile(r"^[a-z0-9_]{1,64}$")
FIELD_NAMES = {"title": L_("Title"), "answer": L_("Answer (first message)"), "more": L_("More (details)"),
               "keywords": L_("Keywords"), "intents": L_("Intents"), "buttons": L_("Buttons"),
               "sources": L_("Sources"), "placeholders": L_("Notes for editors (what to check)"),
               "menu": L_("Place in the topics menu"), "reviewed": L_("Reviewed on"),
               "needs_review": L_("Needs review")}


KIND_NAMES = {"topic": L_("Topic"), "fact": L_("Fact"), "offer_check": L_("Offer check"),
              "danger_lexicon": L_("Danger lexicon"), "glossary": L_("Glossary"),
              "conversation": L_("Conversation texts"), "countries": L_("Country list"), "file": L_("File"),
              "frame": L_("File frame")}
STATUS_NAMES = {"draft": L_("draft"), "pending": L_("waiting for review"), "published": L_("published"),
                "rejected": L_("rejected"), "superseded": L_("superseded")}
DOCUMENT_KINDS = ("offer_check", "danger_lexicon", "glossary", "conversation", "countries", "file", "frame")
NOTICES = {"saved": L_("Saved and sent for review: a publisher approves it before users see it."),
           "draft": L_("Saved as a draft. It has errors: correct them before it can be reviewed."),
           "approved": L_("Approved and published: the bot uses it within seconds."),
           "rejected": L_("Rejected: the author sees your note in the history."),
           "reverted": L_("The old version was saved as a new draft and sent for review.")}


# -- the editorial domain, the content it serves --------------------------------------------------------

_lock = threading.Lock()


def workbench(ctx: Ctx):
    """The console's editorial.Workbench (bot/editorial/workbench.py) on its database, seeded from content/
    the first time (idempotent: services.seed_content)."""
    console = ctx.console
    found = getattr(console, "workbench", None)
    if found is None:
        with _lock:
            found = getattr(console, "workbench", None)
            if found is None:
                from ..services import build_workbench, seed_content

                seed_content(console.settings, console.engine)
                found = console.workbench = build_workbench(console.settings, console.engine, clock=console.clock)
    return found


def content(ctx: Ctx) -> Content:
    """The published content snapshot (what the bot serves), parsed once per content version."""
    bench = workbench(ctx)
    version = bench.content_version()
    cached = getattr(ctx.console, "workbench_content", None)
    if cached is None or cached[0] != version:
        cached = (version, Content.from_documents(bench.published_documents()))
        ctx.console.workbench_content = cached
    return cached[1]


def working_content(ctx: Ctx) -> Content:
    """The content with every working change (drafts and changes waiting for review) in place of the
    published versions: what the editors are working on (the topics list, the translators' files). A set of
    drafts that does not load together gives the published content."""
    bench = workbench(ctx)
    changes = {(item.kind, item.key): revision.document for item, revision in bench.drafts()}
    if not changes:
        return content(ctx)
    try:
        return Content.from_documents(bench.documents_with(changes))
    except Exception:  # noqa: BLE001 - a draft that does not parse: its errors are on its own page
        return content(ctx)


def actor(ctx: Ctx) -> em.Actor:
    return em.Actor(ctx.staff.username, ctx.staff.role, ctx.staff.id)


def field_name(name: str) -> str:
    return _(FIELD_NAMES[name]) if name in FIELD_NAMES else name


def flag_label(flag: str) -> str:
    return _(wb.FLAGS[flag]) if flag in wb.FLAGS else flag


def kind_label(kind: str) -> str:
    return _(KIND_NAMES[kind]) if kind in KIND_NAMES else kind


def status_name(status: str) -> str:
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


TEMPLATE_GLOBALS = {"field_name": field_name, "flag_label": flag_label, "field_key": wb.field_key,
                    "kind_label": kind_label, "status_name": status_name}


def _not_found(what) -> None:
    from .store import NotFound

    raise NotFound(what)


def _topic_id(ctx: Ctx) -> str:
    topic_id = ctx.request.path_params["topic_id"]
    if not TOPIC_ID.match(topic_id):
        _not_found(topic_id)
    return topic_id


def _kind_key(ctx: Ctx) -> tuple[str, str]:
    kind, key = ctx.request.path_params["kind"], ctx.request.path_params["key"]
    if kind not in KIND_NAMES or not key or len(key) > 200:
        _not_found(key)
    return kind, key


def item_url(kind: str, key: str) -> str:
    if kind == "topic":
        return f"/content/topics/{quote(key)}"
    if kind == "fact":
        return f"/content/facts/{quote(key)}"
    return f"/content/items/{kind}/{quote(key, safe='/')}"


def _version(ctx: Ctx, name: str = "version") -> int:
    value = ctx.int_field(name)
    if value is None:
        from .edge import BadRequest

        raise BadRequest(name)
    return value


def _base(ctx: Ctx) -> int:
    value = ctx.int_field("base")
    return 0 if value is None else value


def _notice(ctx: Ctx) -> str | None:
    done = ctx.param("done")
    return _(NOTICES[done]) if done in NOTICES else None


def _open_change(ctx: Ctx, kind: str, key: str):
    """The item's working change (draft or pending revision), if any."""
    return next((r for i, r in workbench(ctx).drafts() if i.kind == kind and i.key == key), None)


def _errors_by_field(issues, languages) -> dict[str, list[str]]:
    """Issues of the checks, by the form field they point to ("answer_ur"); "" for the others."""
    out: dict[str, list[str]] = {}
    for issue in issues:
        name = ""
        if getattr(issue, "field", None):
            root = re.split(r"[.\[\s]", issue.field)[0]
            language = issue.language or next((l for l in languages if issue.field.endswith("." + l)), None)
            name = f"{root}_{wb.field_key(language)}" if language and root in ("title", "answer", "more", "keywords",
                                                                               "unconfirmed") else root
        out.setdefault(name, []).append(str(issue))
    return out


def shown_changes(diff) -> list[diffs.Change]:
    """editorial Diff -> side-by-side tables, one per changed value (per language)."""
    return diffs.tables(diff)


# -- the topics list ------------------------------------------------------------------------------------

@route("/content", roles=VIEWERS)
def topics_page(ctx: Ctx) -> Response:
    snapshot = content(ctx)
    flag = ctx.param("flag") if ctx.param("flag") in wb.FILTERS else ""
    query = ctx.param("q")[:200]
    rows = wb.topic_rows(workbench(ctx).topic_overview(ctx.now.date()), snapshot, list(snapshot.languages),
                         "ur" if ctx.lang == "ur" else "en", flag=flag, query=query)
    return ctx.render("workbench_topics.html", rows=rows, filters=wb.FILTERS, flag=flag, q=query,
                      languages=list(snapshot.languages), notice=_notice(ctx))


# -- the topic editor -----------------------------------------------------------------------------------

COMMON_FIELDS = (("intents", L_("Intents (comma-separated)"), 0, None),
                 ("buttons", L_("Buttons"), 4, L_("One a line: “topic: ID” or “action: NAME” (human, hotline, "
                                                 "offer_check, report, menu, language, topics).")),
                 ("sources", L_("Sources"), 5, L_("One a line: publisher | title | link | date (YYYY-MM-DD).")),
                 ("placeholders", L_("Notes for editors (what to check)"), 3, L_("One a line.")),
                 ("menu", L_("Place in the topics menu"), 0, L_("A number; empty: not in the menu.")))


def _head(ctx: Ctx, kind: str, key: str):
    """The item and its newest revision (404 for an unknown item)."""
    bench = workbench(ctx)
    try:
        return bench.item(kind, key), bench.revision(kind, key)
    except em.NotFound:
        _not_found(key)


def _editor(ctx: Ctx, topic_id: str, form: dict[str, str] | None = None, errors: dict | None = None,
            status: int = 200) -> Response:
    snapshot = content(ctx)
    languages = list(snapshot.languages)
    item, head = _head(ctx, "topic", topic_id)
    if form is None:  # the newest version (a draft waiting included): editors continue from it
        form = wb.topic_form(pv.topic_from(item_data("topic", topic_id, head.document) or {}), languages)
        form["base"] = str(item.head_version)
    base_data = item_data("topic", topic_id, head.document)
    data, _form_errors = wb.topic_data(topic_id, form, languages, base_data)
    draft = pv.topic_from(data)
    previews = {code: pv.preview_topic(snapshot, draft, code) for code in languages}
    missing = {code: wb.missing_fields(draft, code) for code in languages}
    missing = {code: fields for code, fields in missing.items() if fields}
    rtl = {code for code, lang in snapshot.languages.items() if lang.rtl}
    common = [(name, _(label), rows, _(hint) if hint else "") for name, label, rows, hint in COMMON_FIELDS]
    pending = head if head.status in em.OPEN else None
    return ctx.render("workbench_topic.html", status=status, topic_id=topic_id, kind="topic", form=form,
                      errors=errors or {}, previews=previews, missing=missing, languages=languages,
                      rtl_languages=rtl, common_fields=common, base=form.get("base", item.head_version),
                      version=item.published_version, pending=pending, notice=_notice(ctx) if status == 200 else None,
                      can_edit=ctx.staff.role in EDITORS)


@route("/content/topics/{topic_id}", roles=VIEWERS)
def topic_page(ctx: Ctx) -> Response:
    return _editor(ctx, _topic_id(ctx))


def _save(ctx: Ctx, kind: str, key: str, data=None, text: str | None = None, retry=None) -> Response:
    """Save a draft over the form's base version and send it for review; a stale base shows the conflict, a
    change that fails the checks stays a draft with its errors at their fields (retry(errors) renders them)."""
    bench = workbench(ctx)
    note = ctx.form.get("note", "").strip()[:500]
    try:
        saved = bench.save_draft(actor(ctx), kind, key, _base(ctx), data=data, text=text, note=note)
    except em.Conflict as conflict:
        return _conflict_page(ctx, conflict, data=data, text=text)
    except em.Forbidden as exc:
        return retry({"": [_("Refused: %(reason)s") % {"reason": str(exc)}]}, 403)
    if saved.issues:
        return retry(_errors_by_field(saved.issues, list(content(ctx).languages)), 422)
    try:
        bench.submit(actor(ctx), kind, key, saved.revision.version, note=note)
    except em.Invalid as exc:
        return retry(_errors_by_field(exc.issues, list(content(ctx).languages)), 422)
    return redirect(item_url(kind, key) + "?done=saved")


@route("/content/topics/{topic_id}", methods=("POST",), roles=EDITORS)
def topic_save(ctx: Ctx) -> Response:
    topic_id = _topic_id(ctx)
    bench = workbench(ctx)
    languages = list(content(ctx).languages)
    try:
        base = bench.revision("topic", topic_id, _base(ctx) or None) if _base(ctx) else None
    except em.NotFound:
        _not_found(topic_id)
    base_data = item_data("topic", topic_id, base.document) if base else None
    data, errors = wb.topic_data(topic_id, ctx.form, languages, base_data)

    def retry(found: dict, status: int) -> Response:
        return _editor(ctx, topic_id, form=dict(ctx.form), errors=found, status=status)

    if errors:
        return retry(errors, 400)
    return _save(ctx, "topic", topic_id, data=data, retry=retry)


@route("/api/content/preview/{topic_id}", methods=("POST",), roles=EDITORS, api=True)
def topic_preview(ctx: Ctx) -> Response:
    """The editor's form as it is now -> each language's preview (HTML fragments) and its missing fields."""
    topic_id = _topic_id(ctx)
    snapshot = content(ctx)
    base = snapshot.topics.get(topic_id)
    data, errors = wb.topic_data(topic_id, ctx.form, list(snapshot.languages))
    draft = pv.topic_from(data, base)
    fragment = ctx.console.env.get_template("_workbench_preview.html")
    out = {}
    for code in snapshot.languages:
        shown = pv.preview_topic(snapshot, draft, code)
        out[code] = {"key": wb.field_key(code), "words": shown.words, "over": shown.over,
                     "missing": wb.missing_fields(draft, code), "html": fragment.render(p=shown)}
    return JSONResponse({"languages": out, "errors": errors})


# -- conflicts ------------------------------------------------------------------------------------------

def _conflict_page(ctx: Ctx, conflict, data=None, text: str | None = None) -> Response:
    """A stale save: what changed since the editor's base, and the editor's own text (not saved)."""
    from ..editorial.diff import diff as diff_texts
    from ..editorial.layout import dump_entry

    bench = workbench(ctx)
    current = bench.revision(conflict.kind, conflict.key, conflict.current_version)
    mine_text = text if text is not None else dump_entry(conflict.kind, conflict.key, data)
    mine = diff_texts(conflict.kind, conflict.key, current.document, mine_text, conflict.current_version, None)
    return ctx.render("workbench_conflict.html", status=409, key=conflict.key, kind=conflict.kind,
                      base_version=conflict.base_version, current_version=conflict.current_version,
                      changes=diffs.tables(conflict.diff, _("Version %(n)s") % {"n": conflict.base_version},
                                           _("Version %(n)s") % {"n": conflict.current_version}),
                      mine=diffs.tables(mine, _("Version %(n)s") % {"n": conflict.current_version}, _("Yours")),
                      item_url=item_url(conflict.kind, conflict.key))


# -- history and revert ---------------------------------------------------------------------------------

@route("/content/history/{kind}/{key:path}", roles=VIEWERS)
def history_page(ctx: Ctx) -> Response:
    kind, key = _kind_key(ctx)
    bench = workbench(ctx)
    try:
        item = bench.item(kind, key)
        revisions = bench.history(kind, key)
    except em.NotFound:
        _not_found(key)
    by_version = {r.version: r for r in revisions}
    changes = {}
    for r in revisions[:30]:
        before = r.base_version if r.base_version in by_version else (r.version - 1 if r.version > 1 else None)
        if before is None:  # the first version: nothing to compare with
            continue
        changes[r.version] = diffs.tables(bench.diff(kind, key, before, r.version),
                                          _("Version %(n)s") % {"n": before} if before else "",
                                          _("Version %(n)s") % {"n": r.version})
    return ctx.render("workbench_history.html", kind=kind, key=key, revisions=revisions, diffs=changes,
                      head_version=item.head_version, published_version=item.published_version,
                      item_url=item_url(kind, key), can_edit=ctx.staff.role in EDITORS, notice=_notice(ctx))


@route("/content/history/{kind}/{key:path}/revert", methods=("POST",), roles=EDITORS)
def history_revert(ctx: Ctx) -> Response:
    kind, key = _kind_key(ctx)
    bench = workbench(ctx)
    to_version = _version(ctx)
    try:
        saved = bench.revert(actor(ctx), kind, key, to_version, _base(ctx))
    except em.NotFound:
        _not_found(key)
    except em.Conflict as conflict:
        return _conflict_page(ctx, conflict, text=bench.revision(kind, key, to_version).document)
    except em.Forbidden as exc:
        return _refused(ctx, str(exc))
    if saved.issues:
        return redirect(f"/content/history/{kind}/{quote(key, safe='/')}?done=draft")
    try:
        bench.submit(actor(ctx), kind, key, saved.revision.version, note=f"revert to version {to_version}")
    except em.Invalid:
        return redirect(f"/content/history/{kind}/{quote(key, safe='/')}?done=draft")
    return redirect(f"/content/history/{kind}/{quote(key, safe='/')}?done=reverted")


def _refused(ctx: Ctx, reason: str, status: int = 403) -> Response:
    return ctx.render("error.html", status=status, code=status,
                      message=_("Refused: %(reason)s") % {"reason": reason})


# -- the review queue -----------------------------------------------------------------------------------

@route("/content/review", roles=EDITORS)
def review_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    bench = workbench(ctx)
    waiting = []
    for item, revision in sorted(bench.pending(), key=lambda p: p[1].created_at):
        waiting.append({"kind": item.kind, "key": item.key, "version": revision.version, "author": revision.author,
                        "created_at": revision.created_at, "note": revision.note, "four_eyes": item.four_eyes,
                        "mine": ctx.staff.username in (revision.author, revision.submitted_by),
                        "url": item_url(item.kind, item.key),
                        "changes": diffs.tables(bench.diff(item.kind, item.key, item.published_version,
                                                           revision.version),
                                                _("Published"), _("Version %(n)s") % {"n": revision.version})})
    return ctx.render("workbench_review.html", status=status, waiting=waiting, error=error,
                      can_publish=ctx.staff.role in PUBLISHERS, notice=_notice(ctx) if status == 200 else None)


def _decide(ctx: Ctx, approve: bool) -> Response:
    kind, key = _kind_key(ctx)
    bench = workbench(ctx)
    version = _version(ctx)
    note = ctx.form.get("note", "").strip()[:500]
    try:
        if approve:
            bench.approve(actor(ctx), kind, key, version, note=note)
        else:
            bench.reject(actor(ctx), kind, key, version, note=note)
    except em.NotFound:
        _not_found(key)
    except em.Forbidden as exc:
        if ctx.staff.role not in PUBLISHERS:
            message = _("Only publishers (supervisors and admins) approve changes, and nobody approves their "
                        "own change: ask a publisher to review it.")
        else:
            message = _("You cannot approve this change yourself: facts and the danger lexicon need a second "
                        "person. Ask another publisher to approve it.")
        return review_page(ctx, status=403, error=f"{message} ({exc})")
    except em.Invalid as exc:
        errors = "; ".join(str(i) for i in exc.issues[:5])
        return review_page(ctx, status=409,
                           error=_("It fails the checks and cannot be published: %(errors)s") % {"errors": errors})
    except em.WorkflowError as exc:
        return review_page(ctx, status=409, error=_("This change is no longer waiting for review: %(reason)s")
                           % {"reason": str(exc)})
    return redirect("/content/review?done=" + ("approved" if approve else "rejected"))


@route("/content/review/{kind}/{key:path}/approve", methods=("POST",), roles=EDITORS)
def review_approve(ctx: Ctx) -> Response:
    """Editors reach the domain too, so that they get its clear refusal (nobody approves their own change)."""
    return _decide(ctx, True)


@route("/content/review/{kind}/{key:path}/reject", methods=("POST",), roles=PUBLISHERS)
def review_reject(ctx: Ctx) -> Response:
    return _decide(ctx, False)


# -- facts ----------------------------------------------------------------------------------------------

@route("/content/facts", roles=VIEWERS)
def facts_page(ctx: Ctx) -> Response:
    snapshot = content(ctx)
    bench = workbench(ctx)
    facts = sorted(snapshot.facts.values(), key=lambda f: f.id)
    shown = {f.id: {code: pv.fact_shown(snapshot, f, code) for code in snapshot.languages} for f in facts}
    uses = {f.id: pv.fact_uses(snapshot, f.id) for f in facts}
    pending = {i.key for i, _r in bench.drafts() if i.kind == "fact"}
    rtl = {code for code, lang in snapshot.languages.items() if lang.rtl}
    return ctx.render("workbench_facts.html", facts=facts, shown=shown, uses=uses, pending=pending,
                      rtl_languages=rtl, notice=_notice(ctx))


def _fact_form(data: dict, languages) -> dict[str, str]:
    form = {"value": str(data.get("value") or ""), "what": str(data.get("what") or ""),
            "needs_review": "1" if data.get("needs_review", True) else "",
            "sources": wb.sources_form(data.get("sources")), "reviewed": str(data.get("reviewed") or "")}
    for code in languages:
        form[f"unconfirmed_{wb.field_key(code)}"] = str((data.get("unconfirmed") or {}).get(code) or "")
    return form


def _fact_data(form: dict[str, str], languages, base: dict | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    data = dict(base or {})
    for key, value in (("value", form.get("value", "").strip()), ("what", form.get("what", "").strip())):
        wb._put(data, key, value)
    data["needs_review"] = form.get("needs_review") == "1"
    wb._put(data, "reviewed", wb.date_data(form.get("reviewed", ""), errors))
    wb._put(data, "sources", wb.sources_data(form.get("sources", ""), errors))
    unconfirmed = {code: form.get(f"unconfirmed_{wb.field_key(code)}", "").strip() for code in languages}
    wb._put(data, "unconfirmed", {k: v for k, v in unconfirmed.items() if v})
    return data, errors


def _fact_editor(ctx: Ctx, fact_id: str, form: dict | None = None, errors: dict | None = None,
                 status: int = 200) -> Response:
    snapshot = content(ctx)
    languages = list(snapshot.languages)
    item, head = _head(ctx, "fact", fact_id)
    base_data = item_data("fact", fact_id, head.document) or {}
    if form is None:
        form = _fact_form(base_data, languages)
        form["base"] = str(item.head_version)
    data, _errors = _fact_data(form, languages, base_data)
    from ..dialogue.content import Fact, _as_date

    fact = Fact(fact_id, str(data.get("value", "")), bool(data.get("needs_review", True)),
                dict(data.get("unconfirmed") or {}), _as_date(data.get("reviewed")), list(data.get("sources") or []))
    rtl = {code for code, lang in snapshot.languages.items() if lang.rtl}
    return ctx.render("workbench_fact.html", status=status, fact_id=fact_id, form=form, errors=errors or {},
                      base=form.get("base", item.head_version), version=item.published_version,
                      pending=head if head.status in em.OPEN else None, languages=languages, rtl_languages=rtl,
                      shown={code: pv.fact_shown(snapshot, fact, code) for code in languages},
                      uses=pv.fact_uses(snapshot, fact_id), notice=_notice(ctx) if status == 200 else None)


@route("/content/facts/{fact_id}", roles=VIEWERS)
def fact_page(ctx: Ctx) -> Response:
    fact_id = ctx.request.path_params["fact_id"]
    if not TOPIC_ID.match(fact_id):
        _not_found(fact_id)
    return _fact_editor(ctx, fact_id)


@route("/content/facts/{fact_id}", methods=("POST",), roles=EDITORS)
def fact_save(ctx: Ctx) -> Response:
    fact_id = ctx.request.path_params["fact_id"]
    if not TOPIC_ID.match(fact_id):
        _not_found(fact_id)
    bench = workbench(ctx)
    languages = list(content(ctx).languages)
    try:
        base = bench.revision("fact", fact_id, _base(ctx)) if _base(ctx) else None
    except em.NotFound:
        _not_found(fact_id)
    data, errors = _fact_data(ctx.form, languages, item_data("fact", fact_id, base.document) if base else None)

    def retry(found: dict, status: int) -> Response:
        return _fact_editor(ctx, fact_id, form=dict(ctx.form), errors=found, status=status)

    if errors:
        return retry(errors, 400)
    return _save(ctx, "fact", fact_id, data=data, retry=retry)


# -- the other texts: offer check, danger lexicon, glossary, conversation, countries ---------------------

@route("/content/documents", roles=VIEWERS)
def documents_page(ctx: Ctx) -> Response:
    bench = workbench(ctx)
    groups = []
    for kind in DOCUMENT_KINDS:
        items = [i for i in bench.items(kind)]
        if items:
            groups.append((kind, sorted(items, key=lambda i: (i.path, i.position))))
    pending: dict[str, set] = {}
    for item, _r in bench.drafts():
        pending.setdefault(item.kind, set()).add(item.key)
    return ctx.render("workbench_documents.html", groups=groups, pending=pending,
                      four_eyes_kinds=em.FOUR_EYES_KINDS, notice=_notice(ctx))


DOCUMENT_HINTS = {"offer_check": L_("The questions and texts are yours to change; weights, critical flags and "
                                    "thresholds only publishers change."),
                  "danger_lexicon": L_("A change to the danger lexicon is published only after a second person "
                                       "approves it."),
                  "countries": L_("One country a line: the English name, then its other spellings, separated by "
                                  "“|”. The bot uses a new list after the NLU is trained again."),
                  "glossary": L_("The words to use and to avoid; `content check` reports every avoided form.")}


def _document_editor(ctx: Ctx, kind: str, key: str, text: str | None = None, errors: list | None = None,
                     status: int = 200) -> Response:
    item, head = _head(ctx, kind, key)
    base = ctx.form.get("base") if text is not None else str(item.head_version)
    hint = _(DOCUMENT_HINTS[kind]) if kind in DOCUMENT_HINTS else ""
    return ctx.render("workbench_document.html", status=status, kind=kind, key=key,
                      document=head.document if text is None else text, base=base, errors=errors or [],
                      note=ctx.form.get("note", ""), version=item.published_version, hint=hint,
                      pending=head if head.status in em.OPEN else None, four_eyes=item.four_eyes,
                      notice=_notice(ctx) if status == 200 else None)


@route("/content/items/{kind}/{key:path}", roles=VIEWERS)
def document_page(ctx: Ctx) -> Response:
    kind, key = _kind_key(ctx)
    if kind == "topic":
        return redirect(item_url(kind, key))
    return _document_editor(ctx, kind, key)


@route("/content/items/{kind}/{key:path}", methods=("POST",), roles=EDITORS)
def document_save(ctx: Ctx) -> Response:
    kind, key = _kind_key(ctx)
    if kind in ("topic", "fact"):
        _not_found(key)
    text = ctx.form.get("document", "").replace("\r\n", "\n")

    def retry(found: dict, status: int) -> Response:
        return _document_editor(ctx, kind, key, text=text, errors=[e for v in found.values() for e in v],
                                status=status)

    try:
        workbench(ctx).item(kind, key)
    except em.NotFound:
        _not_found(key)
    return _save(ctx, kind, key, text=text, retry=retry)


document_save.max_part_size = 200 * 1024  # offer_check.yml is one item of ~56 KB (~100 KB as a form field)


# -- translators' PO files --------------------------------------------------------------------------------

@route("/content/translate", roles=VIEWERS)
def translate_page(ctx: Ctx, result: dict | None = None, status: int = 200, error: str | None = None) -> Response:
    return ctx.render("workbench_translate.html", status=status, languages=list(content(ctx).languages),
                      can_edit=ctx.staff.role in EDITORS, result=result, error=error)


@route("/content/translate/export", roles=VIEWERS)
def translate_export(ctx: Ctx) -> Response:
    snapshot = working_content(ctx)
    language = ctx.param("language")
    if language not in snapshot.languages or language == translation.SOURCE:
        from .edge import BadRequest

        raise BadRequest(language)
    missing = ctx.param("missing") == "1"
    texts = translation.texts(snapshot, language)
    data = translation.export_po(texts, language, missing_only=missing, now=ctx.now)
    from . import store

    with ctx.begin() as conn:  # every action goes to the audit log (issue 19), a download too
        store.audit(conn, ctx.now, ctx.staff, "content_po_export", language=language, missing_only=missing)
    name = f"safesafar-{language}{'-missing' if missing else ''}.po"
    return Response(data, media_type="text/x-gettext-translation; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@route("/content/translate/import", methods=("POST",), roles=EDITORS)
def translate_import(ctx: Ctx) -> Response:
    snapshot = working_content(ctx)
    language = ctx.form.get("language", "")
    if language not in snapshot.languages or language == translation.SOURCE:
        return translate_page(ctx, status=400, error=_("Choose the language of the file."))
    files = [(name, data) for name, data in getattr(ctx.request.state, "uploads", []) if data]
    if len(files) != 1:
        return translate_page(ctx, status=400, error=_("Choose one PO file."))
    known = {t.context: t for t in translation.texts(snapshot, language)}
    try:
        found, skipped = translation.import_po(files[0][1], known)
    except translation.PoError as exc:
        return translate_page(ctx, status=400,
                              error=_("The file is not a PO file: %(reason)s") % {"reason": str(exc)[:300]})
    drafts, errors = translation_drafts(ctx, language, found)
    return translate_page(ctx, result={"texts": len(found), "drafts": drafts, "skipped": skipped + errors})


translate_import.uploads = 1


def translation_drafts(ctx: Ctx, language: str, found: dict[str, str]) -> tuple[list, list]:
    """The translated texts as drafts, one per item (over its newest version); they are sent for review when
    they pass the checks."""
    bench = workbench(ctx)
    by_item: dict[tuple[str, str], dict[str, str]] = {}
    for context, text in found.items():
        kind, key, name = context.split("/", 2)
        by_item.setdefault((kind, key), {})[name] = text
    drafts, problems = [], []
    for (kind, key), fields in sorted(by_item.items()):
        try:
            item = bench.item(kind, key)
            head = bench.revision(kind, key)
        except em.NotFound:
            problems.append(f"{kind}/{key}: unknown")
            continue
        data = item_data(kind, key, head.document)
        changed = False
        for name, text in fields.items():
            texts = dict(data.get(name) or {})
            value = text + "\n" if "\n" in text else text
            if str(texts.get(language, "")).strip() != text.strip():
                texts[language] = value
                data[name] = texts
                changed = True
        if not changed:
            continue
        try:
            saved = bench.save_draft(actor(ctx), kind, key, item.head_version, data=data,
                                     note=f"translation import ({language})")
        except (em.Conflict, em.Forbidden) as exc:
            problems.append(f"{kind}/{key}: {exc}")
            continue
        if not saved.issues:
            try:
                bench.submit(actor(ctx), kind, key, saved.revision.version, note=f"translation import ({language})")
            except em.Invalid:
                pass
        drafts.append((item_url(kind, key), f"{kind}/{key}"))
    return drafts, problems
