"""companies, contacts and phone login state

Revision ID: 0002_auth
Revises: 0001_calls
"""

import sqlalchemy as sa
from alembic import op

from database.base import UTCDateTime

revision = "0002_auth"
down_revision = "0001_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cnpj", sa.String(14), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_companies")),
        sa.UniqueConstraint("cnpj", name=op.f("uq_companies_cnpj")),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cpf", sa.String(11), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("password_hash", sa.String(60), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_contacts_company_id_companies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("cpf", name=op.f("uq_contacts_cpf")),
    )
    op.create_index(op.f("ix_contacts_company_id"), "contacts", ["company_id"])
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("masked_cpf", sa.String(14), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("result", sa.String(24), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"],
            name=op.f("fk_login_attempts_contact_id_contacts"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"])
    op.create_index(op.f("ix_login_attempts_contact_id"), "login_attempts", ["contact_id"])
    op.create_table(
        "call_logins",
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("logged_in_at", UTCDateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"],
            name=op.f("fk_call_logins_contact_id_contacts"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"],
            name=op.f("fk_call_logins_company_id_companies"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_call_logins")),
    )
    op.create_index(op.f("ix_call_logins_contact_id"), "call_logins", ["contact_id"])
    op.create_index(op.f("ix_call_logins_updated_at"), "call_logins", ["updated_at"])
    op.create_table(
        "caller_failures",
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("caller", name=op.f("pk_caller_failures")),
    )


def downgrade() -> None:
    op.drop_table("caller_failures")
    op.drop_index(op.f("ix_call_logins_updated_at"), table_name="call_logins")
    op.drop_index(op.f("ix_call_logins_contact_id"), table_name="call_logins")
    op.drop_table("call_logins")
    op.drop_index(op.f("ix_login_attempts_contact_id"), table_name="login_attempts")
    op.drop_index(op.f("ix_login_attempts_at"), table_name="login_attempts")
    op.drop_table("login_attempts")
    op.drop_index(op.f("ix_contacts_company_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_table("companies")
