"""The NLU models page (supervisors and admins; issue 20): retrain in the background with progress (the
job's state is in the database: a reload, or another person's page, shows the same job), each model's
gate report (old and new side by side, the messages whose answer changed), promotion to every NLU
server, rollback in one click, and the history with a chart of accuracy and urgent recall over the
versions (matplotlib, SVG rendered here). The work is bot/nlu/lifecycle.py's, as `safesafar nlu
retrain | promote | rollback`; every action is audit-logged."""
from __future__ import annotations

import base64
import io

from starlette.responses import Response

from ..nlu import lifecycle
from ..storage import model_store as ms
from . import store
from .framework import SUPERVISORS, Ctx, redirect, route
from .i18n import L_, _

NOTICES = {"started": L_("Retraining started: the page follows its progress."),
           "promoted": L_("The model is now served by every NLU server."),
           "rolled_back": L_("The previous model is served again.")}
CHART_POINTS = ("active", "retired", "rolled_back")


def chart_svg(rows: list[dict]) -> str | None:
    """Accuracy and urgent recall of every model served so far, oldest first, as an SVG data URI (the
    console's CSP allows images from data: URIs)."""
    points = sorted((r for r in rows if r["status"] in CHART_POINTS and r.get("scores")), key=lambda r: r["id"])
    if not points:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"#{r['id']}" for r in points]
    series = [("intent accuracy (held-out)", [r["scores"].get("intent_accuracy") for r in points], "o-"),
              ("urgent recall (held-out)", [r["scores"].get("urgent_recall") for r in points], "s-"),
              ("urgent recall (near-miss)", [((r["scores"].get("nearmiss") or {}).get("all") or {}).get("urgent_recall")
                                             for r in points], "^--")]
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, values, style in series:
        if any(v is not None for v in values):
            ax.plot(labels, [v if v is not None else float("nan") for v in values], style, label=name)
    ax.set_ylim(min(0.8, min((v for _, vs, _ in series for v in vs if v is not None), default=0.8)) - 0.02, 1.01)
    ax.set_xlabel("model")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    settings = ctx.console.settings
    lifecycle.fail_stale(settings, ctx.console.engine, now=ctx.now)
    with ctx.begin() as conn:
        rows = ms.history(conn)
        job = ms.running_job(conn)
        previous = ms.previous(conn)
    notice = _(NOTICES[ctx.param("done")]) if ctx.param("done") in NOTICES and status == 200 else None
    try:
        served = lifecycle.current_model(settings).name
    except Exception:  # noqa: BLE001 - no model trained here yet
        served = None
    return ctx.render("models.html", status=status, rows=rows, job=job, previous=previous, served=served,
                      chart=chart_svg(rows), notice=notice, error=error, replicas=lifecycle.replica_urls(settings))


@route("/nlu/models", roles=SUPERVISORS)
def models_page(ctx: Ctx) -> Response:
    return _page(ctx)


@route("/nlu/retrain", methods=("POST",), roles=SUPERVISORS)
def retrain(ctx: Ctx) -> Response:
    settings = ctx.console.settings
    lifecycle.fail_stale(settings, ctx.console.engine, now=ctx.now)
    mode = ctx.form.get("mode", "auto")
    if mode not in ("auto", "full"):
        mode = "auto"
    try:
        job_id = ms.create_job(ctx.console.engine, ctx.staff.username, mode, now=ctx.now)
    except ms.JobRunning:
        return _page(ctx, 409, _("A retraining is already running: one at a time."))
    pid = ctx.console.retrain_launcher(settings, job_id, mode)
    ms.update_job(ctx.console.engine, job_id, pid=pid or None)
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "nlu_retrain", model=job_id, mode=mode)
    return redirect("/nlu/models?done=started")


def _model_id(ctx: Ctx) -> int:
    return int(ctx.request.path_params["model_id"])


def _report_page(ctx: Ctx, model_id: int, status: int = 200, error: str | None = None) -> Response:
    from .store import NotFound

    with ctx.begin() as conn:
        row = ms.get(conn, model_id)
    if row is None:
        raise NotFound(model_id)
    return ctx.render("model_report.html", status=status, row=row, report=row.get("report"), error=error)


@route("/nlu/models/{model_id:int}", roles=SUPERVISORS)
def model_report(ctx: Ctx) -> Response:
    return _report_page(ctx, _model_id(ctx))


@route("/nlu/models/{model_id:int}/promote", methods=("POST",), roles=SUPERVISORS)
def promote(ctx: Ctx) -> Response:
    model_id = _model_id(ctx)
    with ctx.begin() as conn:
        if ms.get(conn, model_id) is None:
            from .store import NotFound

            raise NotFound(model_id)
    try:
        result = lifecycle.promote(ctx.console.settings, ctx.console.engine, model_id, ctx.staff.username)
    except Exception as exc:  # noqa: BLE001 - refused, or a replica failed (the others were put back)
        return _report_page(ctx, model_id, 409, _("Not promoted: %(reason)s") % {"reason": str(exc)})
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "nlu_promote", model=model_id, title=result["model"])
    return redirect("/nlu/models?done=promoted")


@route("/nlu/rollback", methods=("POST",), roles=SUPERVISORS)
def rollback(ctx: Ctx) -> Response:
    try:
        result = lifecycle.rollback(ctx.console.settings, ctx.console.engine, ctx.staff.username)
    except Exception as exc:  # noqa: BLE001 - nothing to go back to, or a replica failed
        return _page(ctx, 409, _("Not rolled back: %(reason)s") % {"reason": str(exc)})
    with ctx.begin() as conn:
        store.audit(conn, ctx.now, ctx.staff, "nlu_rollback", title=result["model"])
    return redirect("/nlu/models?done=rolled_back")
