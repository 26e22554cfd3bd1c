"""The workbench's storage (bot/editorial/workbench.py's Repository): items, revisions, the content version,
audit rows. It finds, inserts and applies conditional updates (checked by row count); it decides nothing.
Also the cheap reads a worker's live content store polls (`ContentSource`). It imports nothing of the
domain: the wiring gives it the types to build (bot.editorial.model's Item and Revision)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from .content_tables import ContentItemRow, ContentRevisionRow, ContentStateRow
from .db import AuditRow

ITEMS, REVISIONS, STATE, AUDIT = (ContentItemRow.__table__, ContentRevisionRow.__table__, ContentStateRow.__table__,
                                  AuditRow.__table__)
_REVISION_FIELDS = ("status", "submitted_by", "submitted_at", "reviewer", "reviewer_id", "review_note", "decided_at")


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives the stored UTC times back without their zone."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


class SqlUnit:
    """One transaction on `conn`; items and revisions are built with `types` (item type, revision type)."""

    def __init__(self, conn: Connection, types: tuple):
        self.conn = conn
        self.item_type, self.revision_type = types

    def _item(self, row):
        return self.item_type(row.id, row.kind, row.key, row.path, row.position, row.head_version, row.published_version)

    def _revision(self, row):
        return self.revision_type(row.version, row.status, row.document, row.author, row.author_id, _utc(row.created_at),
                                  note=row.note or "", base_version=row.base_version, reviewer=row.reviewer,
                                  reviewer_id=row.reviewer_id, review_note=row.review_note or "",
                                  decided_at=_utc(row.decided_at), submitted_by=row.submitted_by,
                                  submitted_at=_utc(row.submitted_at))

    def item(self, kind: str, key: str, for_update: bool = False):
        query = select(ITEMS).where(ITEMS.c.kind == kind, ITEMS.c.key == key)
        if for_update and self.conn.dialect.name != "sqlite":  # SQLite: the transaction holds the write lock
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return self._item(row) if row else None

    def items(self, kind: str | None = None) -> list:
        query = select(ITEMS).order_by(ITEMS.c.kind, ITEMS.c.path, ITEMS.c.position, ITEMS.c.key)
        if kind is not None:
            query = query.where(ITEMS.c.kind == kind)
        return [self._item(row) for row in self.conn.execute(query)]

    def create_item(self, kind: str, key: str, path: str, position: int):
        item_id = self.conn.execute(insert(ITEMS).values(kind=kind, key=key, path=path, position=position,
                                                         head_version=0, published_version=None)
                                    .returning(ITEMS.c.id)).scalar_one()
        return self.item_type(item_id, kind, key, path, position, 0, None)

    def next_position(self, path: str) -> int:
        return (self.conn.execute(select(func.max(ITEMS.c.position)).where(ITEMS.c.path == path)).scalar() or 0) + 1

    def advance_head(self, item_id: int, base_version: int) -> bool:
        return self.conn.execute(update(ITEMS).where(ITEMS.c.id == item_id, ITEMS.c.head_version == base_version)
                                 .values(head_version=base_version + 1)).rowcount == 1

    def add_revision(self, item_id: int, revision) -> None:
        self.conn.execute(insert(REVISIONS).values(
            item_id=item_id, version=revision.version, status=revision.status, document=revision.document,
            base_version=revision.base_version, author=revision.author[:64], author_id=revision.author_id,
            note=revision.note, created_at=revision.created_at, submitted_by=revision.submitted_by,
            submitted_at=revision.submitted_at, reviewer=revision.reviewer, reviewer_id=revision.reviewer_id,
            review_note=revision.review_note, decided_at=revision.decided_at))

    def revision(self, item_id: int, version: int):
        row = self.conn.execute(select(REVISIONS).where(REVISIONS.c.item_id == item_id,
                                                        REVISIONS.c.version == version)).first()
        return self._revision(row) if row else None

    def revisions(self, item_id: int) -> list:
        return [self._revision(row) for row in self.conn.execute(
            select(REVISIONS).where(REVISIONS.c.item_id == item_id).order_by(REVISIONS.c.version))]

    def set_status(self, item_id: int, version: int, status: str, from_statuses: tuple[str, ...], **fields) -> bool:
        values = {k: v for k, v in fields.items() if k in _REVISION_FIELDS}
        return self.conn.execute(update(REVISIONS).where(REVISIONS.c.item_id == item_id, REVISIONS.c.version == version,
                                                         REVISIONS.c.status.in_(from_statuses))
                                 .values(status=status, **values)).rowcount == 1

    def set_published(self, item_id: int, version: int) -> None:
        self.conn.execute(update(ITEMS).where(ITEMS.c.id == item_id).values(published_version=version))

    def published(self) -> list:
        """(item, its published revision) of every published item, in file order."""
        query = _with_revision(ITEMS.c.published_version).order_by(ITEMS.c.path, ITEMS.c.position, ITEMS.c.key)
        return [(self._item(row), self._revision(row)) for row in self.conn.execute(query)]

    def heads(self, statuses: tuple[str, ...]) -> list:
        """(item, its newest revision) where that revision's status is one of `statuses`, oldest first."""
        query = (_with_revision(ITEMS.c.head_version).where(REVISIONS.c.status.in_(statuses))
                 .order_by(REVISIONS.c.created_at, ITEMS.c.kind, ITEMS.c.key))
        return [(self._item(row), self._revision(row)) for row in self.conn.execute(query)]

    def content_version(self) -> int:
        return content_version(self.conn)

    def bump_content_version(self, at: datetime) -> int:
        return self.conn.execute(update(STATE).where(STATE.c.id == 1).values(version=STATE.c.version + 1, updated_at=at)
                                 .returning(STATE.c.version)).scalar_one()

    def audit(self, at: datetime, actor, action: str, detail: dict) -> None:
        """actor: .name and .staff_id (the console's audit log)."""
        self.conn.execute(insert(AUDIT).values(at=at, staff_id=actor.staff_id, actor=actor.name[:64], action=action,
                                               case_id=None, detail=detail))


def _with_revision(version_column):
    """Items joined with one revision each: the one whose number is in `version_column`."""
    item_columns = [c for c in ITEMS.c if c.name != "created_at"]  # the revision's created_at is meant
    revision_columns = [c for c in REVISIONS.c if c.name not in ("id", "item_id")]
    return select(*item_columns, *revision_columns).select_from(
        ITEMS.join(REVISIONS, (REVISIONS.c.item_id == ITEMS.c.id) & (REVISIONS.c.version == version_column)))


def content_version(conn: Connection) -> int:
    return conn.execute(select(STATE.c.version).where(STATE.c.id == 1)).scalar() or 0


class SqlEditorialRepository:
    """The Repository of bot/editorial/workbench.py on an engine. item_type(id, kind, key, path, position,
    head_version, published_version) and revision_type(version, status, document, author, author_id,
    created_at, **the rest) build what it returns."""

    def __init__(self, engine: Engine, item_type, revision_type):
        self.engine = engine
        self.types = (item_type, revision_type)

    @contextmanager
    def unit(self, write: bool = True) -> Iterator[SqlUnit]:
        if write:
            with self.engine.begin() as conn:
                yield SqlUnit(conn, self.types)
        else:
            with self.engine.connect().execution_options(read_only=True) as conn, conn.begin():
                yield SqlUnit(conn, self.types)


class ContentSource:
    """What a worker's live content store reads: the content version (one row), and the published texts."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def version(self) -> int:
        with self.engine.connect().execution_options(read_only=True) as conn:
            return content_version(conn)

    def published(self) -> tuple[int, list]:
        """The content version, then the published revisions: [(row, row)] with kind, key, path, position and
        document (a version read before the texts: a publish in between is picked up at the next poll)."""
        with self.engine.connect().execution_options(read_only=True) as conn:
            version = content_version(conn)
            rows = conn.execute(select(ITEMS.c.kind, ITEMS.c.key, ITEMS.c.path, ITEMS.c.position, REVISIONS.c.document)
                                .select_from(ITEMS.join(REVISIONS, (REVISIONS.c.item_id == ITEMS.c.id)
                                                        & (REVISIONS.c.version == ITEMS.c.published_version)))).all()
        return version, [(row, row) for row in rows]

    def count(self) -> int:
        with self.engine.connect().execution_options(read_only=True) as conn:
            return conn.execute(select(func.count()).select_from(ITEMS)).scalar_one()
