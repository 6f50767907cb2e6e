"""Failed logins on the whole line, per minute (password spraying slows every login)

Revision ID: 0007_line_login_failures
Revises: 0006_ticket_events_solution_at
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0007_line_login_failures"
down_revision = "0006_ticket_events_solution_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_login_failures",
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("minute", name=op.f("pk_line_login_failures")),
    )


def downgrade() -> None:
    op.drop_table("line_login_failures")
