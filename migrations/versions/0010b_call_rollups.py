"""Rollups of calls and phone logins per hour for the admin console; an unanswered transfer's
result kept on its call

Revision ID: 0010b_call_rollups
Revises: 0010_admin_accounts
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0010b_call_rollups"
down_revision = "0010_admin_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("transfer_result", sa.String(length=96), nullable=True))
    op.create_table(
        "rolled_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rolled_at", UTCDateTime(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_rolled_days")),
    )
    op.create_table(
        "call_hours",
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "outcome", "node", name=op.f("pk_call_hours")),
    )
    op.create_table(
        "transfer_hours",
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=32), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "team", "result", name=op.f("pk_transfer_hours")),
    )
    op.create_table(
        "node_hours",
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("gave_up", sa.Integer(), nullable=False),
        sa.Column("retries_exhausted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "node", name=op.f("pk_node_hours")),
    )
    op.create_table(
        "login_hours",
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("result", sa.String(length=24), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "result", name=op.f("pk_login_hours")),
    )


def downgrade() -> None:
    op.drop_table("login_hours")
    op.drop_table("node_hours")
    op.drop_table("transfer_hours")
    op.drop_table("call_hours")
    op.drop_table("rolled_days")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("transfer_result")
