"""The learning loop's model history (table nlu_models): retraining jobs, their candidates, gate reports,
promotions and rollbacks. Storage only: bot/nlu/lifecycle.py decides."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .db import NLUModelRow, utcnow

models = NLUModelRow.__table__
RUNNING = ("queued", "training", "evaluating")
SERVED = ("active", "retired", "rolled_back")


class JobRunning(RuntimeError):
    """A retraining job is already queued or running (one at a time)."""

    def __init__(self, job: dict):
        super().__init__(f"retraining job #{job['id']} is {job['status']}")
        self.job = job


def _row(row) -> dict | None:
    return dict(row._mapping) if row is not None else None


def create_job(engine, requested_by: str, mode: str = "auto", now: datetime | None = None) -> int:
    """A queued job; JobRunning when one is queued or running already (the unique `running` column
    decides between two clicks at once)."""
    try:
        with engine.begin() as conn:
            return conn.execute(insert(models).values(
                status="queued", running=1, mode=mode, stage="queued", progress=0.0, requested_by=requested_by,
                data={}, created_at=now or utcnow())).inserted_primary_key[0]
    except IntegrityError:
        with engine.connect() as conn:
            job = running_job(conn)
        if job is None:  # it finished in between: try once more
            return create_job(engine, requested_by, mode, now)
        raise JobRunning(job) from None


def running_job(conn: Connection) -> dict | None:
    return _row(conn.execute(select(models).where(models.c.running.is_not(None))).first())


def get(conn: Connection, model_id: int) -> dict | None:
    return _row(conn.execute(select(models).where(models.c.id == model_id)).first())


def update_job(engine, model_id: int, **values) -> None:
    """Sets columns of one row; a status that ends the job frees the one-at-a-time slot."""
    if "status" in values and values["status"] not in RUNNING:
        values.setdefault("running", None)
        values.setdefault("finished_at", utcnow())
    with engine.begin() as conn:
        conn.execute(update(models).where(models.c.id == model_id).values(**values))


def history(conn: Connection, limit: int = 200) -> list[dict]:
    """Newest first."""
    return [dict(r._mapping) for r in conn.execute(select(models).order_by(models.c.id.desc()).limit(limit))]


def active(conn: Connection) -> dict | None:
    return _row(conn.execute(select(models).where(models.c.status == "active")
                             .order_by(models.c.promoted_at.desc(), models.c.id.desc())).first())


def by_file(conn: Connection, model_file: str) -> dict | None:
    return _row(conn.execute(select(models).where(models.c.model_file == model_file)
                             .order_by(models.c.id.desc())).first())


def previous(conn: Connection) -> dict | None:
    """The model served before the active one (the rollback target): the newest retired one."""
    return _row(conn.execute(select(models).where(models.c.status == "retired")
                             .order_by(models.c.promoted_at.desc(), models.c.id.desc())).first())


def add_initial(conn: Connection, model_file: str, langid_file: str | None, inputs: str | None, data: dict,
                scores: dict | None, now: datetime | None = None) -> int:
    """A row for a model that was served before the learning loop knew it (trained by `nlu train`)."""
    now = now or utcnow()
    return conn.execute(insert(models).values(
        status="active", mode="initial", stage="done", progress=1.0, requested_by="nlu train",
        model_file=model_file, langid_file=langid_file, inputs=inputs, data=data, scores=scores,
        created_at=now, finished_at=now, promoted_at=now, promoted_by="nlu train")).inserted_primary_key[0]


def mark_served(conn: Connection, model_id: int, actor: str, now: datetime | None = None,
                old_status: str = "retired") -> None:
    """model_id becomes the active model; the one active before becomes `old_status`."""
    conn.execute(update(models).where(models.c.status == "active", models.c.id != model_id).values(status=old_status))
    conn.execute(update(models).where(models.c.id == model_id).values(
        status="active", promoted_at=now or utcnow(), promoted_by=actor))
