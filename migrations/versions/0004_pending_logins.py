"""CPF keyed between the CPF and password steps of a call

Revision ID: 0004_pending_logins
Revises: 0003_tickets
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0004_pending_logins"
down_revision = "0003_tickets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_logins",
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("cpf", sa.String(11), nullable=False),
        sa.Column("keyed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_pending_logins")),
    )


def downgrade() -> None:
    op.drop_table("pending_logins")
