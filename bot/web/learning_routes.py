"""The learning inbox in the console (issue 20): what the bot misunderstood, redacted and grouped, for
editors to label (an intent, out of scope, "needs a new topic", ignore; the country and amount spans),
keyboard-driven; publishers (supervisors, admins) apply the labelled examples to the training data in one
step; the editors' list of messages that need a new topic; a staff member relabels a user's message from
the case page. The policy is bot/learning/inbox.py; the data directory is NLU_DATA_DIR (nlu/data)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from ..contract import contract
from ..learning.inbox import Review
from ..storage import learning_store
from . import store
from .framework import SUPERVISORS, Ctx, redirect, route
from .i18n import L_, _

REVIEWERS = ("editor", "supervisor", "admin")
PUBLISHERS = SUPERVISORS
PAGE = 100
LANGS = ("en", "ur", "ur-Latn")
NOTICES = {"applied": L_("Applied: %(examples)s examples written to the training data (%(files)s files). Retrain "
                         "the model to use them."),
           "nothing": L_("Nothing to apply: no labelled examples are waiting.")}
SOURCE_LABELS = {"fallback": L_("not understood"), "ask_back": L_("asked back"), "not_helpful": L_("marked not helpful"),
                 "staff": L_("relabelled by staff")}


def _review(ctx: Ctx) -> Review:
    console = ctx.console
    review = getattr(console, "learning_review", None)
    if review is None:
        review = console.learning_review = Review(console.engine, console.settings.nlu_data_dir, console.clock)
    return review


def intents() -> list[str]:
    return sorted(contract().intents)


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(ctx: Ctx) -> dict:
    """The page's filters from the query string (unknown values are dropped, not refused)."""
    language = ctx.param("language")
    intent = ctx.param("intent")
    confidence = ctx.param("confidence")
    since, until = _day(ctx.param("since")), _day(ctx.param("until"))
    status = ctx.param("status", "new")
    return {"language": language if language in LANGS else "",
            "intent": intent if intent in intents() else "",
            "confidence": confidence if confidence in ("low", "mid", "high") else "",
            "since": since.isoformat() if since else "", "until": until.isoformat() if until else "",
            "status": status if status in ("new", "labelled") else "new"}


def _query(filters: dict) -> dict:
    out: dict = {"status": (filters["status"],)}
    if filters["language"]:
        out["language"] = filters["language"]
    if filters["intent"]:
        out["intent"] = filters["intent"]
    if filters["confidence"] == "low":
        out["max_confidence"] = 0.4
    elif filters["confidence"] == "mid":
        out["min_confidence"], out["max_confidence"] = 0.4, 0.7
    elif filters["confidence"] == "high":
        out["min_confidence"] = 0.7
    if filters["since"]:
        out["since"] = datetime.combine(date.fromisoformat(filters["since"]), time(), tzinfo=timezone.utc)
    if filters["until"]:
        out["until"] = datetime.combine(date.fromisoformat(filters["until"]) + timedelta(days=1), time(),
                                        tzinfo=timezone.utc)
    return out


def _spans(text: str, entities) -> list[dict]:
    return [{"start": s, "end": e, "entity": k, "text": text[s:e]} for s, e, k in entities or ()
            if 0 <= s < e <= len(text)]


@route("/learning", roles=REVIEWERS)
def learning_page(ctx: Ctx) -> Response:
    filters = _filters(ctx)
    groups = _review(ctx).groups(**_query(filters))
    with ctx.begin() as conn:
        waiting = len(learning_store.items(conn, statuses=("labelled",)))
    shown = []
    for group in groups[:PAGE]:
        leader = group.leader
        entities = leader["label_entities"] if leader["label_entities"] is not None else leader["entities"]
        shown.append({"id": group.id, "ids": ",".join(str(i) for i in group.ids), "count": group.count,
                      "text": leader["text"], "language": leader["language"], "intent": leader["intent"],
                      "confidence": leader["confidence"], "ranking": (leader["ranking"] or [])[:4],
                      "label": leader["label"], "source": SOURCE_LABELS.get(leader["source"], leader["source"]),
                      "others": group.texts, "rows": len(group.ids), "entities": _spans(leader["text"], entities),
                      "last_seen": leader["last_seen"]})
    notice = None
    done = ctx.param("done")
    if done == "applied":
        notice = _(NOTICES["applied"], examples=ctx.param("examples", "0"), files=ctx.param("files", "0"))
    elif done in NOTICES:
        notice = _(NOTICES[done])
    return ctx.render("learning.html", groups=shown, total=len(groups), filters=filters, intents=intents(),
                      languages=LANGS, waiting=waiting, publisher=ctx.staff.role in PUBLISHERS, notice=notice)


def _ids(ctx: Ctx) -> list[int]:
    out = []
    for part in ctx.form.get("ids", "").split(","):
        part = part.strip()
        if part:
            out.append(_positive(part))
    return out[:1000]


def _positive(value: str) -> int:
    from .edge import BadRequest, parse_id

    number = parse_id(value)
    if number is None:
        raise BadRequest(value)
    return number


def _marked(text: str, form: dict) -> list[list]:
    """The country and amount spans a reviewer kept or typed ("country" / "amount": comma-separated
    pieces of the text), found in `text`."""
    out: list[list] = []
    for kind in ("country", "amount"):
        for piece in form.get(kind, "").split(","):
            piece = piece.strip()
            if not piece:
                continue
            at = text.find(piece)
            while at >= 0 and any(at < e and s < at + len(piece) for s, e, _k in out):
                at = text.find(piece, at + 1)
            if at >= 0:
                out.append([at, at + len(piece), kind])
    return sorted(out)


@route("/learning/decide", methods=("POST",), roles=REVIEWERS)
def learning_decide(ctx: Ctx) -> Response:
    """One decision on a group (form: ids, decision = label | out_of_scope | new_topic | ignore, intent,
    country, amount). Answers JSON to the page's script (Accept: application/json), else a redirect."""
    ids = _ids(ctx)
    decision = ctx.form.get("decision", "")
    intent = ctx.form.get("intent", "")
    pick = ctx.form.get("pick", "")  # the page's buttons: "label:<intent>", "label" (the select), or a decision
    if pick:
        decision, _sep, picked = pick.partition(":")
        intent = picked or (intent if decision == "label" else "")
    wants_json = "application/json" in ctx.request.headers.get("accept", "")
    if not ids or decision not in ("label", "out_of_scope", "new_topic", "ignore") or (
            decision == "label" and intent not in intents()):
        if wants_json:
            return JSONResponse({"ok": False, "error": _("Choose an intent first.")}, status_code=400)
        return redirect("/learning")
    review = _review(ctx)
    entities = None
    if decision in ("label", "out_of_scope") and ("country" in ctx.form or "amount" in ctx.form):
        with ctx.begin() as conn:
            rows = learning_store.items_by_id(conn, ids)
        entities = {row["id"]: _marked(row["text"], ctx.form) for row in rows}
    changed = review.decide(ids, decision, ctx.staff.username, intent=intent or None, entities=entities)
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "learning_" + decision, None, rows=len(ids), changed=changed,
                    **({"intent": intent} if intent else {}))
    if wants_json:
        return JSONResponse({"ok": True, "changed": changed})
    return redirect("/learning")


@route("/learning/apply", methods=("POST",), roles=PUBLISHERS)
def learning_apply(ctx: Ctx) -> Response:
    applied = _review(ctx).apply(ctx.staff.username)
    if not applied.rows:
        return redirect("/learning?done=nothing")
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "learning_apply", None, examples=applied.examples, files=applied.files,
                    removed=applied.removed)
    return redirect(f"/learning?done=applied&examples={applied.examples}&files={len(applied.files)}")


@route("/learning/topics", roles=REVIEWERS)
def learning_topics(ctx: Ctx) -> Response:
    review = _review(ctx)
    rows = review.new_topics()
    with ctx.begin() as conn:
        votes = learning_store.feedback_counts(conn)
    return ctx.render("learning_topics.html", rows=rows, votes=votes)


@route("/cases/{case_id:int}/relabel", methods=("POST",))
def case_relabel(ctx: Ctx) -> Response:
    """A staff member's label for a user's message of this case (form: message_id, intent)."""
    case_id = int(ctx.request.path_params["case_id"])
    message_id = ctx.int_field("message_id")
    intent = ctx.form.get("intent", "")
    messages = store.messages
    with ctx.begin() as conn:
        case = store.get_case(conn, case_id)  # 404 for a case that does not exist
        if message_id is None or intent not in intents():
            return redirect(f"/cases/{case_id}")
        row = conn.execute(select(messages.c.text, messages.c.meta).where(
            messages.c.id == message_id, messages.c.case_id == case_id, messages.c.direction == "in",
            messages.c.kind == "text")).first()
    if row is None:
        return redirect(f"/cases/{case_id}")
    meta = row.meta or {}
    language = meta.get("language") if meta.get("language") in LANGS else (case.get("language") or "en")
    _review(ctx).relabel(row.text or "", language, intent, ctx.staff.username, case_id=case_id,
                         entities=meta.get("entities") or ())
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "learning_relabel", case_id, message=message_id, intent=intent)
    return redirect(f"/cases/{case_id}?done=relabelled#m{message_id}")


TEMPLATE_GLOBALS = {"learning_intents": intents}
