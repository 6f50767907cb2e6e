"""Password checks on the whole line, per minute, beside the refused ones (the line's slowdown
follows the refused share)

Revision ID: 0016_line_login_checks
Revises: 0012_around_the_call
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_line_login_checks"
down_revision = "0012_around_the_call"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("line_login_failures") as batch:
        batch.add_column(sa.Column("checks", sa.Integer(), nullable=False, server_default="0"))
    # The minutes already counted knew only their refusals: taking them as all refused keeps
    # the slowdown they had (the rows leave the window within 10 minutes).
    line = sa.table("line_login_failures", sa.column("failures", sa.Integer()),
                    sa.column("checks", sa.Integer()))
    op.execute(line.update().values(checks=line.c.failures))
    with op.batch_alter_table("line_login_failures") as batch:
        batch.alter_column("checks", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("line_login_failures") as batch:
        batch.drop_column("checks")
