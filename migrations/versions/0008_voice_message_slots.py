"""The ticket each call may leave a recorded message on (replayed callbacks change nothing)

Revision ID: 0008_voice_message_slots
Revises: 0007_line_login_failures
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0008_voice_message_slots"
down_revision = "0007_line_login_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "voice_message_slots",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("offered_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE",
                                name=op.f("fk_voice_message_slots_ticket_id_tickets")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="SET NULL",
                                name=op.f("fk_voice_message_slots_contact_id_contacts")),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_voice_message_slots")),
    )
    op.create_index(op.f("ix_voice_message_slots_offered_at"), "voice_message_slots",
                    ["offered_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_voice_message_slots_offered_at"), table_name="voice_message_slots")
    op.drop_table("voice_message_slots")
