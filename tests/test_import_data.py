"""``import_data``: validation, one transaction, identity by key (docs/rules.md#import-format)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from sqlalchemy import select

from auth.importing import ContactRecord, ContactsSection
from auth.models import Company, Contact
from auth.passwords import hash_cost, hash_password
from database.session import Database
from importer import ImportRejected, import_data, load_import_file
from importer.sections import ImportSection, registered_sections
from tests.conftest_auth import (
    CNPJ,
    CPF,
    NOW,
    OTHER_CNPJ,
    OTHER_CPF,
    PASSWORD,
    ROUNDS,
    add_contact,
    db_fixture,  # noqa: F401 - provides the "db" fixture
    load_contact,
    row_counts,
)

SPEC_EXAMPLE: dict[str, Any] = {
    "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}],
    "contacts": [{"cpf": CPF, "name": "Maria Silva", "company": CNPJ,
                  "password": PASSWORD, "admin": True}],
    "specialists": [{"key": "ana.souza", "name": "Ana Souza", "area": "educacional",
                     "phone": "+5511999990001"}],
    "tickets": [{"number": "12345678", "company": CNPJ, "area": "educacional",
                 "status": "solution_proposed", "specialist": "ana.souza",
                 "summary": "Rematrícula não gera boleto",
                 "opened_at": "2026-11-02T10:15:00-03:00",
                 "solution_at": "2026-11-20T16:00:00-03:00"}],
}


def good_file() -> dict[str, Any]:
    """Two companies and two contacts, all valid: a bad record is appended after them."""
    return {
        "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"},
                      {"cnpj": OTHER_CNPJ, "name": "Escola Modelo"}],
        "contacts": [{"cpf": CPF, "name": "Maria Silva", "company": CNPJ, "password": PASSWORD},
                     {"cpf": OTHER_CPF, "name": "João Souza", "company": OTHER_CNPJ}],
    }


def snapshot(db: Database) -> list[tuple[object, ...]]:
    with db.session() as session:
        companies = [(c.cnpj, c.name)
                     for c in session.scalars(select(Company).order_by(Company.id))]
        contacts = [
            (c.cpf, c.name, c.company_id, c.is_admin, c.password_hash, c.failed_attempts,
             c.locked_until, c.created_at, c.updated_at)
            for c in session.scalars(select(Contact).order_by(Contact.id))
        ]
    return [*companies, *contacts]


def run(db: Database, payload: object) -> list[str]:
    """Problems of a refused import, after checking that the database did not change."""
    before = (row_counts(db), snapshot(db))
    with pytest.raises(ImportRejected) as rejected:
        import_data(db, payload, rounds=ROUNDS)
    assert (row_counts(db), snapshot(db)) == before, "a refused import wrote something"
    return list(rejected.value.problems)


# --- a good file ---------------------------------------------------------------------------------


def test_the_spec_example_imports(db: Database) -> None:
    report = import_data(db, SPEC_EXAMPLE, rounds=ROUNDS)

    assert report.lines() == [
        "companies: 1 created, 0 updated, 0 unchanged",
        "contacts: 1 created, 0 updated, 0 unchanged",
        "specialists: 1 created, 0 updated, 0 unchanged",
        "tickets: 1 created, 0 updated, 0 unchanged",
    ]
    contact = load_contact(db)
    assert (contact.name, contact.is_admin, contact.failed_attempts) == ("Maria Silva", True, 0)
    assert contact.password_hash is not None
    assert hash_cost(contact.password_hash) == ROUNDS
    assert bcrypt.checkpw(PASSWORD.encode(), contact.password_hash.encode())


def test_importing_twice_changes_nothing(db: Database) -> None:
    import_data(db, SPEC_EXAMPLE, rounds=ROUNDS)
    first = (row_counts(db), snapshot(db))

    report = import_data(db, SPEC_EXAMPLE, rounds=ROUNDS)

    assert not report.changed
    assert [(s.key, s.unchanged) for s in report.sections] == [
        ("companies", 1), ("contacts", 1), ("specialists", 1), ("tickets", 1)]
    assert (row_counts(db), snapshot(db)) == first


def test_documents_are_stored_normalised_and_match_on_re_import(db: Database) -> None:
    punctuated = {
        "companies": [{"cnpj": "11.222.333/0001-81", "name": "Colégio Exemplo"}],
        "contacts": [{"cpf": "529.982.247-25", "name": "Maria Silva",
                      "company": "11.222.333/0001-81"}],
    }
    import_data(db, punctuated, rounds=ROUNDS)
    report = import_data(db, good_file(), rounds=ROUNDS)
    assert (load_contact(db).cpf, report.section("companies").unchanged) == (CPF, 1)


def test_changes_are_updates_of_the_same_rows(db: Database) -> None:
    import_data(db, good_file(), rounds=ROUNDS)
    changed = good_file()
    changed["companies"][0]["name"] = "Colégio Exemplo Ltda"
    changed["contacts"][1]["company"] = CNPJ  # João moves to the first company
    changed["contacts"].append({"cpf": "12345678909", "name": "Ana", "company": CNPJ})

    report = import_data(db, changed, rounds=ROUNDS)

    assert report.lines() == ["companies: 0 created, 1 updated, 1 unchanged",
                              "contacts: 1 created, 1 updated, 1 unchanged"]
    with db.session() as session:
        first = session.scalars(select(Company).where(Company.cnpj == CNPJ)).one()
        assert first.name == "Colégio Exemplo Ltda"
        assert load_contact(db, OTHER_CPF).company_id == first.id
    assert row_counts(db)["companies"] == 2


def test_a_contact_may_name_a_company_already_in_the_database(db: Database) -> None:
    import_data(db, {"companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}]}, rounds=ROUNDS)
    import_data(db, {"contacts": [{"cpf": CPF, "name": "Maria", "company": CNPJ}]}, rounds=ROUNDS)
    assert load_contact(db).password_hash is None


def test_the_password_is_stored_only_as_a_hash(db: Database) -> None:
    import_data(db, good_file(), rounds=ROUNDS)
    with db.session() as session:
        stored = [value for row in session.execute(select(Contact)).scalars()
                  for value in vars(row).values()]
    assert all(PASSWORD not in str(value) for value in stored)


def test_a_given_password_hash_is_stored_as_is(db: Database) -> None:
    given_hash = hash_password("9999", 4)
    payload = good_file()
    payload["contacts"][0] = {"cpf": CPF, "name": "Maria", "company": CNPJ,
                              "password_hash": given_hash}
    import_data(db, payload, rounds=ROUNDS)
    assert load_contact(db).password_hash == given_hash
    assert not import_data(db, payload, rounds=ROUNDS).changed


@pytest.mark.parametrize("cost", [4, 14])
def test_a_given_hash_of_cost_4_to_14_is_accepted(db: Database, cost: int) -> None:
    given_hash = f"$2b${cost:02d}$" + "a" * 53  # not a real hash: the import never checks it
    payload = good_file()
    payload["contacts"][0] = {"cpf": CPF, "name": "Maria", "company": CNPJ,
                              "password_hash": given_hash}
    import_data(db, payload, rounds=ROUNDS)
    assert load_contact(db).password_hash == given_hash


def test_a_new_password_replaces_the_hash_and_clears_the_lock(db: Database) -> None:
    import_data(db, good_file(), rounds=ROUNDS)
    with db.transaction() as session:
        contact = session.scalars(select(Contact).where(Contact.cpf == CPF)).one()
        contact.failed_attempts, contact.locked_until = 5, NOW
    payload = good_file()
    payload["contacts"][0]["password"] = "1357"

    report = import_data(db, payload, rounds=ROUNDS)

    assert report.section("contacts").updated == 1
    contact = load_contact(db)
    assert contact.password_hash is not None
    assert bcrypt.checkpw(b"1357", contact.password_hash.encode())
    assert (contact.failed_attempts, contact.locked_until) == (0, None)


def test_fields_left_out_keep_their_stored_values(db: Database) -> None:
    payload = good_file()
    payload["contacts"][0]["admin"] = True
    import_data(db, payload, rounds=ROUNDS)
    stored = load_contact(db)

    lean = good_file()
    del lean["contacts"][0]["password"]
    report = import_data(db, lean, rounds=ROUNDS)

    assert not report.changed
    after = load_contact(db)
    assert (after.password_hash, after.is_admin) == (stored.password_hash, True)


def test_re_import_at_a_higher_cost_rehashes(db: Database) -> None:
    import_data(db, good_file(), rounds=4)
    report = import_data(db, good_file(), rounds=5)
    assert report.section("contacts").updated == 1
    stored = load_contact(db).password_hash
    assert stored is not None and hash_cost(stored) == 5


def test_empty_file_imports_nothing(db: Database) -> None:
    report = import_data(db, {}, rounds=ROUNDS)
    assert report.lines() == ["the file holds no records"]
    assert not any(row_counts(db).values())


def test_unprepared_contact_records_are_hashed_by_upsert(db: Database) -> None:
    """``prepare`` is an optimisation: ``upsert`` alone must still never store the plaintext."""
    import_data(db, {"companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}]}, rounds=ROUNDS)
    record = ContactRecord.model_validate(
        {"cpf": CPF, "name": "Maria", "company": CNPJ, "password": PASSWORD})
    with db.transaction() as session:
        assert ContactsSection().upsert(session, record, rounds=ROUNDS)
    stored = load_contact(db).password_hash
    assert stored is not None and bcrypt.checkpw(PASSWORD.encode(), stored.encode())
    assert PASSWORD not in repr(record)


def test_prepare_swaps_the_password_for_its_hash(db: Database) -> None:
    record = ContactRecord.model_validate(
        {"cpf": CPF, "name": "Maria", "company": CNPJ, "password": PASSWORD})
    with db.session() as session:
        prepared = ContactsSection().prepare(session, record, rounds=ROUNDS)
    assert prepared.password is None
    assert prepared.password_hash is not None
    assert bcrypt.checkpw(PASSWORD.encode(), prepared.password_hash.encode())


# --- bad records: named, and nothing written ---------------------------------------------------


def contact(**fields: object) -> dict[str, object]:
    return {"cpf": "12345678909", "name": "Ana Lima", "company": CNPJ, **fields}


BAD_CONTACTS: list[tuple[str, dict[str, object], str]] = [
    ("bad cpf", contact(cpf="12345678900"), "contacts[2].cpf: invalid check digits"),
    ("same digits", contact(cpf="22222222222"), "contacts[2].cpf: invalid number (all digits"),
    ("short cpf", contact(cpf="1234567890"), "contacts[2].cpf: must have 11 digits"),
    ("cpf number", contact(cpf=12345678909), "contacts[2].cpf: Input should be a valid string"),
    ("bad company cnpj", contact(company="11222333000180"),
     "contacts[2].company: invalid check digits"),
    ("unknown company", contact(company="11444777000242"),
     "contacts[2].company: no company with CNPJ 11444777000242 in the database or the file"),
    ("short password", contact(password="123"), "contacts[2].password: must be 4 to 12 digits"),
    ("long password", contact(password="1234567890123"),
     "contacts[2].password: must be 4 to 12 digits"),
    ("letters", contact(password="12ab"), "contacts[2].password: must be 4 to 12 digits"),
    ("numeric json", contact(password=482913),
     "contacts[2].password: Input should be a valid string"),
    ("bad hash", contact(password_hash="$2b$12$tooShort"),
     "contacts[2].password_hash: must be a bcrypt hash"),
    ("not bcrypt", contact(password_hash="5f4dcc3b5aa765d61d8327deb882cf99"),
     "contacts[2].password_hash: must be a bcrypt hash"),
    ("cost 31 hash", contact(password_hash="$2b$31$" + "a" * 53),
     "contacts[2].password_hash: bcrypt cost 31 is too high: at most 14"),
    ("cost 15 hash", contact(password_hash="$2b$15$" + "a" * 53),
     "contacts[2].password_hash: bcrypt cost 15 is too high: at most 14"),
    ("both secrets", contact(password="1234", password_hash=hash_password("1234", 4)),
     "contacts[2]: give password or password_hash, not both"),
    ("duplicate", contact(cpf=CPF), "contacts[2].cpf: same cpf as contacts[0]"),
    ("duplicate punctuated", contact(cpf="111.444.777-35"),
     "contacts[2].cpf: same cpf as contacts[1]"),
    ("unknown field", contact(email="ana@example.com"), "contacts[2].email: unknown field"),
    ("missing name", {"cpf": "12345678909", "company": CNPJ}, "contacts[2].name: is required"),
    ("empty name", contact(name="  "), "contacts[2].name: String should have at least 1"),
    ("admin as text", contact(admin="yes"), "contacts[2].admin: Input should be a valid boolean"),
    ("not an object", ["12345678909"], "contacts[2]: must be a JSON object"),  # type: ignore[list-item]
]


@pytest.mark.parametrize(("bad", "message"), [(b, m) for _, b, m in BAD_CONTACTS],
                         ids=[name for name, _, _ in BAD_CONTACTS])
def test_a_bad_contact_is_named_and_nothing_is_written(
    db: Database, bad: dict[str, object], message: str
) -> None:
    payload = good_file()
    payload["contacts"].append(bad)

    problems = run(db, payload)

    assert len(problems) == 1
    assert problems[0].startswith(message)
    assert not any(row_counts(db).values())


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"cnpj": "11222333000180", "name": "X"}, "companies[2].cnpj: invalid check digits"),
        ({"cnpj": "11.222.333/0001-81", "name": "X"},
         "companies[2].cnpj: same cnpj as companies[0]"),
        ({"cnpj": CNPJ[:-1], "name": "X"}, "companies[2].cnpj: must have 14 digits"),
        ({"cnpj": "1122233300018A", "name": "X"}, "companies[2].cnpj: must hold digits only"),
        ({"cnpj": "12345678000195"}, "companies[2].name: is required"),
        ({"cnpj": "12345678000195", "name": "X", "city": "SP"}, "companies[2].city: unknown field"),
    ],
)
def test_a_bad_company_is_named_and_nothing_is_written(
    db: Database, bad: dict[str, object], message: str
) -> None:
    payload = good_file()
    payload["companies"].append(bad)
    assert run(db, payload) == [message]


def test_nothing_is_written_when_a_record_of_an_existing_database_is_bad(db: Database) -> None:
    add_contact(db, cpf=OTHER_CPF, cnpj=OTHER_CNPJ)
    payload = good_file()
    payload["contacts"].append(contact(company="11444777000242"))
    assert run(db, payload)[0].startswith("contacts[2].company: no company")
    assert row_counts(db)["contacts"] == 1


def test_a_bad_ticket_rolls_back_the_companies_and_contacts_too(db: Database) -> None:
    payload = {**good_file(), "tickets": copy.deepcopy(SPEC_EXAMPLE["tickets"])}
    payload["tickets"][0]["specialist"] = "nobody"
    problems = run(db, payload)
    assert problems and problems[0].startswith("tickets[0].specialist")


def test_a_duplicate_in_another_package_s_list_is_refused_too(db: Database) -> None:
    payload = copy.deepcopy(SPEC_EXAMPLE)
    payload["tickets"].append({**payload["tickets"][0], "summary": "outro"})
    assert run(db, payload) == ["tickets[1].number: same number as tickets[0]"]


def test_sections_apply_in_dependency_order() -> None:
    sections = registered_sections()
    assert [s.key for s in sections] == ["companies", "contacts", "specialists", "tickets"]
    assert all(isinstance(s, ImportSection) for s in sections)


def test_every_problem_of_the_file_is_listed(db: Database) -> None:
    payload = good_file()
    payload["companies"].append({"cnpj": "11222333000180", "name": "X"})
    payload["contacts"].append(contact(cpf="12345678900", password="12"))
    assert run(db, payload) == [
        "companies[2].cnpj: invalid check digits",
        "contacts[2].cpf: invalid check digits",
        "contacts[2].password: must be 4 to 12 digits",
    ]


def test_problems_never_repeat_a_password_or_a_cpf(db: Database) -> None:
    payload = good_file()
    payload["contacts"].append(contact(cpf="12345678900", password="12ab34cd"))
    text = "\n".join(run(db, payload))
    assert "12ab34cd" not in text and "12345678900" not in text


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([], "the file must hold a JSON object with the lists companies, contacts"),
        ("companies", "the file must hold a JSON object"),
        ({"contatos": []}, 'unknown list "contatos" (the file may hold companies, contacts'),
        ({"companies": {"cnpj": CNPJ}}, "companies: must be a list of records"),
        ({"contacts": None}, "contacts: must be a list of records"),
    ],
)
def test_a_bad_file_shape_is_refused(db: Database, payload: object, message: str) -> None:
    problems = run(db, payload)
    assert problems[0].startswith(message)


def test_an_unknown_list_refuses_the_whole_file(db: Database) -> None:
    assert run(db, {**good_file(), "contatos": []}) == [
        'unknown list "contatos" (the file may hold companies, contacts, specialists, tickets)']


# --- the file itself ---------------------------------------------------------------------------


def test_load_import_file_reads_json(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(SPEC_EXAMPLE, ensure_ascii=False), encoding="utf-8")
    assert load_import_file(path) == SPEC_EXAMPLE


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"companies": [}', "invalid JSON at line 1, column 16"),
        (b"", "invalid JSON at line 1, column 1"),
        (b'{"companies": []}\n{', "invalid JSON at line 2"),
        (b"\xff\xfe{}", "the file is not UTF-8 text"),
    ],
)
def test_load_import_file_names_the_problem(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "data.json"
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as rejected:
        load_import_file(path)
    assert rejected.value.problems[0].startswith(message)


def test_load_import_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ImportRejected, match="cannot read the file"):
        load_import_file(tmp_path / "missing.json")
