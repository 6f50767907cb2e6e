"""every step of a call with its keys, for replaying calls through another menu

Revision ID: 0009_call_steps
Revises: 0010b_call_rollups
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0009_call_steps"
down_revision = "0010b_call_rollups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_steps",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("input_kind", sa.String(length=8), nullable=False),
        sa.Column("keys", sa.String(length=8), nullable=True),
        sa.Column("key_count", sa.SmallInteger(), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_detail", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("call_sid", "seq", name=op.f("pk_call_steps")),
    )
    starts = sa.text("step = 'ivr.incoming'")
    op.create_index("ix_call_steps_starts", "call_steps", ["seq"], sqlite_where=starts,
                    postgresql_where=starts)


def downgrade() -> None:
    op.drop_index("ix_call_steps_starts", table_name="call_steps")
    op.drop_table("call_steps")
