"""The console for a long shift, the rest (issue 22): tags on cases, saved queue views, shift-handover notes;
JSON written before as \\u escapes rewritten as UTF-8 text (cases' report, entities and offer check, messages'
meta), so that a search finds Urdu in them.

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-05

"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (table, key, JSON columns): rows whose JSON text holds \u escapes are written again without them
_JSON_COLUMNS = (("cases", "id", ("report", "entities", "offer_check")), ("messages", "id", ("meta",)))


def _rewrite_json() -> None:
    bind = op.get_bind()
    cast = "CAST(:value AS JSON)" if bind.dialect.name == "postgresql" else ":value"
    for table, key, columns in _JSON_COLUMNS:
        for column in columns:
            query = sa.text(f"SELECT {key}, CAST({column} AS TEXT) FROM {table} "
                            f"WHERE CAST({column} AS TEXT) LIKE :escape")
            for row_id, raw in bind.execute(query, {"escape": "%\\u%"}).all():
                try:
                    value = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                text = json.dumps(value, ensure_ascii=False)
                if text != raw:
                    bind.execute(sa.text(f"UPDATE {table} SET {column} = {cast} WHERE {key} = :id"),
                                 {"value": text, "id": row_id})


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "name", name="uq_tags_kind_name"),
    )
    op.create_table(
        "case_tags",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("case_id", "tag_id"),
    )
    op.create_index("ix_case_tags_tag_id", "case_tags", ["tag_id"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_saved_views_staff_id", "saved_views", ["staff_id"])
    op.create_table(
        "handover_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["acknowledged_by"], ["staff.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_handover_notes_staff_id", "handover_notes", ["staff_id"])
    _rewrite_json()


def downgrade() -> None:  # (UTF-8 JSON text stays: it is the same JSON)
    op.drop_index("ix_handover_notes_staff_id", table_name="handover_notes")
    op.drop_table("handover_notes")
    op.drop_index("ix_saved_views_staff_id", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_index("ix_case_tags_tag_id", table_name="case_tags")
    op.drop_table("case_tags")
    op.drop_table("tags")
