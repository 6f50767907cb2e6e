"""The pepper each contact's password hash was made with (NULL: the digits alone)

Revision ID: 0015_password_pepper
Revises: 0013_speech
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_password_pepper"
down_revision = "0013_speech"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("password_pepper", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("password_pepper")
