"""the words a caller said at a menu, and the provider's confidence, kept for replay

Revision ID: 0013_speech
Revises: 0009_call_steps
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_speech"
down_revision = "0009_call_steps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_steps") as batch:
        batch.add_column(sa.Column("said", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_steps") as batch:
        batch.drop_column("confidence")
        batch.drop_column("said")
