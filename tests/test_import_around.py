"""The import's fields for reminder calls: a contact's ``phone``, a ticket's ``contact``."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from auth.models import Contact
from database.session import Database
from importer import ImportRejected
from tests.conftest_auth import (
    CNPJ,
    CPF,
    OTHER_CNPJ,
    OTHER_CPF,
    PASSWORD,
    ROUNDS,
    UNKNOWN_CPF,
    db_fixture,  # noqa: F401 - provides the "db" fixture
)
from tests.importing import import_data
from tickets.models import Ticket

FILE: dict[str, Any] = {
    "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"},
                  {"cnpj": OTHER_CNPJ, "name": "Escola Modelo"}],
    "contacts": [{"cpf": CPF, "name": "Maria Silva", "company": CNPJ, "password": PASSWORD,
                  "phone": "+5511987650001"},
                 {"cpf": OTHER_CPF, "name": "João Souza", "company": OTHER_CNPJ}],
    "tickets": [{"number": "12345678", "company": CNPJ, "area": "educacional",
                 "status": "open", "summary": "Boleto", "contact": CPF,
                 "opened_at": "2026-11-02T10:15:00-03:00"}],
}


def problems(db: Database, payload: dict[str, Any]) -> list[str]:
    with pytest.raises(ImportRejected) as rejected:
        import_data(db, payload, rounds=ROUNDS)
    return list(rejected.value.problems)


def test_phone_and_contact_are_stored_and_a_second_import_changes_nothing(db: Database) -> None:
    import_data(db, FILE, rounds=ROUNDS)
    report = import_data(db, FILE, rounds=ROUNDS)
    assert all(section.created == section.updated == 0 for section in report.sections)
    with db.transaction() as session:
        maria = session.scalars(select(Contact).where(Contact.cpf == CPF)).one()
        joao = session.scalars(select(Contact).where(Contact.cpf == OTHER_CPF)).one()
        ticket = session.scalars(select(Ticket)).one()
        assert (maria.phone, joao.phone) == ("+5511987650001", None)
        assert ticket.contact_id == maria.id


def test_a_phone_left_out_is_kept_and_null_clears_it(db: Database) -> None:
    import_data(db, FILE, rounds=ROUNDS)
    payload = copy.deepcopy(FILE)
    del payload["contacts"][0]["phone"]
    import_data(db, payload, rounds=ROUNDS)
    with db.transaction() as session:
        assert session.scalar(select(Contact.phone).where(Contact.cpf == CPF)) == "+5511987650001"
    payload["contacts"][0]["phone"] = None
    import_data(db, payload, rounds=ROUNDS)
    with db.transaction() as session:
        assert session.scalar(select(Contact.phone).where(Contact.cpf == CPF)) is None


@pytest.mark.parametrize("phone", ["11987650001", "+55 11 9", "+5511", "telefone"])
def test_a_phone_that_is_not_e164_is_refused_by_name(db: Database, phone: str) -> None:
    payload = copy.deepcopy(FILE)
    payload["contacts"][0]["phone"] = phone
    (problem,) = problems(db, payload)
    assert problem.startswith("contacts[0].phone")


def test_a_ticket_contact_of_another_company_or_unknown_is_refused(db: Database) -> None:
    payload = copy.deepcopy(FILE)
    payload["tickets"][0]["contact"] = OTHER_CPF
    (problem,) = problems(db, payload)
    assert problem.startswith("tickets[0].contact") and "another company" in problem
    payload["tickets"][0]["contact"] = UNKNOWN_CPF
    (problem,) = problems(db, payload)
    assert problem.startswith("tickets[0].contact") and "no contact" in problem
    assert UNKNOWN_CPF not in problem
    payload["tickets"][0]["contact"] = "52998224724"  # wrong check digit
    (problem,) = problems(db, payload)
    assert problem.startswith("tickets[0].contact")
    with db.transaction() as session:
        assert session.scalars(select(Ticket)).all() == []
