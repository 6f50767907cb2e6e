"""Shared pieces of the auth and import tests (``tests/test_auth_*``, ``tests/test_import_*``).

Not a conftest: modules import what they use. The ``db`` fixture is imported under another name
(``from tests.conftest_auth import db_fixture``) so test parameters do not shadow the import.
The database itself comes from ``database_url`` in ``tests/conftest.py`` (SQLite file, or
PostgreSQL when TEST_DATABASE_URL is set), already migrated to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, inspect, select

from auth.models import Company, Contact
from auth.passwords import hash_password
from database.session import Database
from models import metadata

# Valid documents (check digits verified by hand against the published algorithm).
CPF = "52998224725"
OTHER_CPF = "11144477735"
THIRD_CPF = "12345678909"
UNKNOWN_CPF = "39053344705"
CNPJ = "11222333000181"
OTHER_CNPJ = "11444777000161"
PASSWORD = "482913"
WRONG_PASSWORD = "000000"
ROUNDS = 4
NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CALLER = "+5511987654321"


@pytest.fixture(name="db")
def db_fixture(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def add_contact(
    db: Database,
    *,
    cpf: str = CPF,
    password: str | None = PASSWORD,
    rounds: int = ROUNDS,
    cnpj: str = CNPJ,
    name: str = "Maria Silva",
) -> int:
    """Creates the contact (and its company when new); returns the contact's id."""
    with db.transaction() as session:
        company = session.scalar(select(Company).where(Company.cnpj == cnpj))
        if company is None:
            company = Company(cnpj=cnpj, name="Colégio Exemplo")
            session.add(company)
            session.flush()
        contact = Contact(
            cpf=cpf,
            name=name,
            company_id=company.id,
            password_hash=hash_password(password, rounds) if password is not None else None,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(contact)
        session.flush()
        return contact.id


def load_contact(db: Database, cpf: str = CPF) -> Contact:
    """The contact as stored now (fresh session, detached)."""
    with db.session() as session:
        contact = session.scalar(select(Contact).where(Contact.cpf == cpf))
        assert contact is not None
        session.expunge(contact)
        return contact


def row_counts(db: Database) -> dict[str, int]:
    """Rows per table, every table of the schema but Alembic's."""
    with db.session() as session:
        names = [
            name for name in inspect(session.get_bind()).get_table_names()
            if name != "alembic_version"
        ]
        return {
            name: session.scalar(select(func.count()).select_from(metadata.tables[name])) or 0
            for name in names
        }
