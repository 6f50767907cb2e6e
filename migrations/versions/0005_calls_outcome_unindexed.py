"""Drop the index on calls.outcome

Every step a call takes rewrites its row, and this index with it: a quarter of the cost of
writing a step on SQLite, measured. Nothing in the product reads calls by outcome, and a column
with a handful of values makes a poor index anyway; reports by outcome go through the index on
``started_at`` (a time range first, then the outcome).

Revision ID: 0005_calls_outcome_unindexed
Revises: 0004_pending_logins
"""

from alembic import op

revision = "0005_calls_outcome_unindexed"
down_revision = "0004_pending_logins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_calls_outcome"), table_name="calls")


def downgrade() -> None:
    op.create_index(op.f("ix_calls_outcome"), "calls", ["outcome"])
