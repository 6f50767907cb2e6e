"""Around the call: reminder calls, survey answers, ouvidoria contacts; contacts' phone and
tickets' contact

Revision ID: 0012_around_the_call
Revises: 0015_password_pepper
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0012_around_the_call"
down_revision = "0015_password_pepper"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "reminder_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("solution_at", UTCDateTime(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("final_status", sa.String(length=32), nullable=True),
        _fk("reminder_calls", "contact_id", "contacts", "SET NULL"),
        _fk("reminder_calls", "ticket_id", "tickets", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_calls")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_reminder_calls_call_sid")),
        sa.UniqueConstraint("ticket_id", "solution_at", "attempt",
                            name="uq_reminder_calls_solution_attempt"),
    )
    op.create_index(op.f("ix_reminder_calls_claimed_at"), "reminder_calls", ["claimed_at"])

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("team", sa.String(length=48), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("specialist_id", sa.Integer(), nullable=True),
        sa.Column("comment_url", sa.String(length=1024), nullable=True),
        sa.Column("comment_at", UTCDateTime(), nullable=True),
        _fk("survey_answers", "specialist_id", "specialists", "SET NULL"),
        _fk("survey_answers", "ticket_id", "tickets", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_survey_answers_call_sid")),
    )
    op.create_index(op.f("ix_survey_answers_at"), "survey_answers", ["at"])

    op.create_table(
        "ouvidoria_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("recording_url", sa.String(length=1024), nullable=True),
        _fk("ouvidoria_contacts", "contact_id", "contacts", "SET NULL"),
        _fk("ouvidoria_contacts", "ticket_id", "tickets", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ouvidoria_contacts")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_ouvidoria_contacts_call_sid")),
    )
    op.create_index(op.f("ix_ouvidoria_contacts_at"), "ouvidoria_contacts", ["at"])

    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=16), nullable=True))
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_tickets_contact_id_contacts"), "contacts",
                                 ["contact_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint(op.f("fk_tickets_contact_id_contacts"), type_="foreignkey")
        batch.drop_column("contact_id")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("phone")
    for table in ("ouvidoria_contacts", "survey_answers"):
        op.drop_index(op.f(f"ix_{table}_at"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_reminder_calls_claimed_at"), table_name="reminder_calls")
    op.drop_table("reminder_calls")
