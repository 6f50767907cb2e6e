"""tickets, specialists and ticket events

Revision ID: 0003_tickets
Revises: 0002_auth
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0003_tickets"
down_revision = "0002_auth"
branch_labels = None
depends_on = None

# Frozen copies of the vocabularies as of this revision (a later change gets its own migration).
AREAS = ("cadastro", "educacional", "financas", "nfe")
STATUSES = ("open", "in_progress", "awaiting_customer", "solution_proposed", "closed")
CLOSED_HOW = ("accepted", "automatic")
EVENT_KINDS = ("accepted", "postponed", "rejected", "auto_closed", "voice_message")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, native_enum=False, create_constraint=False, length=24)


def upgrade() -> None:
    op.create_table(
        "specialists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("area", _enum(AREAS), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_specialists")),
        sa.UniqueConstraint("key", name=op.f("uq_specialists_key")),
        sa.CheckConstraint(_one_of("area", AREAS), name=op.f("ck_specialists_area")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.CHAR(8), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("area", _enum(AREAS), nullable=False),
        sa.Column("status", _enum(STATUSES), nullable=False),
        sa.Column("specialist_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("solution_at", UTCDateTime(), nullable=True),
        sa.Column("postponed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_how", _enum(CLOSED_HOW), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_tickets_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["specialist_id"],
            ["specialists.id"],
            name=op.f("fk_tickets_specialist_id_specialists"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(_one_of("area", AREAS), name=op.f("ck_tickets_area")),
        sa.CheckConstraint(_one_of("status", STATUSES), name=op.f("ck_tickets_status")),
        sa.CheckConstraint(
            f"closed_how IS NULL OR {_one_of('closed_how', CLOSED_HOW)}",
            name=op.f("ck_tickets_closed_how"),
        ),
    )
    op.create_index(op.f("ix_tickets_number"), "tickets", ["number"], unique=True)
    op.create_index(op.f("ix_tickets_company_id"), "tickets", ["company_id"])
    op.create_index(
        op.f("ix_tickets_status_solution_at"), "tickets", ["status", "solution_at"]
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(EVENT_KINDS), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(64), nullable=True),
        sa.Column("recording_url", sa.String(1024), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_events_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_ticket_events_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(_one_of("kind", EVENT_KINDS), name=op.f("ck_ticket_events_kind")),
    )
    op.create_index(op.f("ix_ticket_events_ticket_id"), "ticket_events", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_events_ticket_id"), table_name="ticket_events")
    op.drop_table("ticket_events")
    op.drop_index(op.f("ix_tickets_status_solution_at"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_company_id"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_number"), table_name="tickets")
    op.drop_table("tickets")
    op.drop_table("specialists")
