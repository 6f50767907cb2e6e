"""Admin accounts of the /admin/ console and their login trail

Revision ID: 0010_admin_accounts
Revises: 0008_voice_message_slots
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0010_admin_accounts"
down_revision = "0008_voice_message_slots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=60), nullable=False),
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_accounts_username")),
    )
    op.create_table(
        "admin_logins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_logins")),
    )
    op.create_index(op.f("ix_admin_logins_at"), "admin_logins", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_logins_at"), table_name="admin_logins")
    op.drop_table("admin_logins")
    op.drop_table("admin_accounts")
