"""the OEP register: imports (dated snapshots), their agencies and the disciplinary notices

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "register_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("register_date", sa.Date(), nullable=True),
        sa.Column("agencies", sa.Integer(), nullable=False),
        sa.Column("base_import_id", sa.Integer(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "register_agencies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("licence", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("proprietor", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raw_status", sa.String(length=64), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("head_office", sa.Text(), nullable=False),
        sa.Column("branches", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["register_imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("import_id", "licence", name="uq_register_agencies_import_licence"),
    )
    op.create_index(op.f("ix_register_agencies_import_id"), "register_agencies", ["import_id"], unique=False)
    op.create_table(
        "register_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("licence", sa.String(length=32), nullable=True),
        sa.Column("linked_by", sa.String(length=16), nullable=True),
        sa.Column("candidate", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["import_id"], ["register_imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_register_notices_import_id"), "register_notices", ["import_id"], unique=False)
    op.create_index(op.f("ix_register_notices_licence"), "register_notices", ["licence"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_register_notices_licence"), table_name="register_notices")
    op.drop_index(op.f("ix_register_notices_import_id"), table_name="register_notices")
    op.drop_table("register_notices")
    op.drop_index(op.f("ix_register_agencies_import_id"), table_name="register_agencies")
    op.drop_table("register_agencies")
    op.drop_table("register_imports")
