"""conversation_state.version and inbox.user_key: a user's turns are serialised and kept in order across
processes (a turn stores only the state version it loaded; it waits while an earlier update of the same
user is still new)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_state") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.add_column(sa.Column("user_key", sa.String(length=128), nullable=True))
    op.create_index("ix_inbox_user_new", "inbox", ["source", "user_key", "update_id"], unique=False,
                    sqlite_where=sa.text("status = 'new'"), postgresql_where=sa.text("status = 'new'"))


def downgrade() -> None:
    op.drop_index("ix_inbox_user_new", table_name="inbox",
                  sqlite_where=sa.text("status = 'new'"), postgresql_where=sa.text("status = 'new'"))
    with op.batch_alter_table("inbox") as batch_op:
        batch_op.drop_column("user_key")
    with op.batch_alter_table("conversation_state") as batch_op:
        batch_op.drop_column("version")
