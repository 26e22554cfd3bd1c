"""The editors' workbench's tables (bot/editorial/): content items, their revisions, and the one content
version counter that workers poll. Imported by db.py so that Base.metadata (the migrations' model) has them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .db import TZ, Base, utcnow


class ContentItemRow(Base):
    """One editable piece of content: (kind, key), e.g. (topic, greet), (fact, fia_tip_hotline),
    (danger_lexicon, strong); path and position say where it goes in the exported files."""
    __tablename__ = "content_items"
    __table_args__ = (UniqueConstraint("kind", "key", name="uq_content_items_kind_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    head_version: Mapped[int] = mapped_column(Integer, default=0)  # the newest revision (optimistic checks)
    published_version: Mapped[int | None] = mapped_column(Integer)  # the one the bot serves
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class ContentRevisionRow(Base):
    """A version of an item: its text (YAML as in its file), status, author, reviewer, notes, times."""
    __tablename__ = "content_revisions"
    __table_args__ = (UniqueConstraint("item_id", "version", name="uq_content_revisions_item_version"),
                      Index("ix_content_revisions_status", "status"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft | pending | published | rejected | superseded
    document: Mapped[str] = mapped_column(Text)
    base_version: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(TZ)
    reviewer: Mapped[str | None] = mapped_column(String(64))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime | None] = mapped_column(TZ)


class ContentStateRow(Base):
    """One row (id 1): the content version, bumped by every publish; workers poll it."""
    __tablename__ = "content_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
