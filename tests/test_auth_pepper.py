"""The password pepper (docs/rules.md#password-storage): a server-side secret mixed in before
bcrypt, so the hashes alone cannot be tried offline; hashes made without it keep working and get
it at the next good login; imports of hashes made elsewhere keep working."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import bcrypt
import pytest
from flask import Flask

from app import create_app, import_sections, shutdown
from auth.passwords import Pepper, hash_password, password_matches, pepper_id
from auth.service import verify_login
from database.session import Database
from importer.run import import_data
from tests.conftest import AUTH_TOKEN
from tests.conftest_auth import (
    CALLER,
    CNPJ,
    CPF,
    NOW,
    PASSWORD,
    ROUNDS,
    WRONG_PASSWORD,
    add_contact,
    db_fixture,  # noqa: F401 - provides the "db" fixture
    load_contact,
)

PEPPER = Pepper(b"k" * 32)
OTHER_PEPPER = Pepper(b"j" * 32)


def login(db: Database, pepper: Pepper | None, password: str = PASSWORD,
          call_sid: str = "CA-pepper") -> str:
    with db.transaction() as session:
        return verify_login(session, cpf=CPF, password=password, call_sid=call_sid,
                            caller=CALLER, now=NOW, rounds=ROUNDS, pepper=pepper).status


def test_a_peppered_hash_matches_only_with_its_pepper() -> None:
    hashed = hash_password(PASSWORD, ROUNDS, PEPPER)
    assert password_matches(PASSWORD, hashed, rounds=ROUNDS, pepper=PEPPER)
    assert not password_matches(PASSWORD, hashed, rounds=ROUNDS, pepper=OTHER_PEPPER)
    assert not password_matches(PASSWORD, hashed, rounds=ROUNDS)  # the table alone: no use
    assert not bcrypt.checkpw(PASSWORD.encode(), hashed.encode())
    assert not password_matches(WRONG_PASSWORD, hashed, rounds=ROUNDS, pepper=PEPPER)


def test_the_pepper_s_id_names_it_without_revealing_it() -> None:
    assert pepper_id(None) is None
    assert PEPPER.id == Pepper(b"k" * 32).id != OTHER_PEPPER.id
    assert len(PEPPER.id) == 16 and "k" not in PEPPER.id
    assert "k" * 32 not in repr(PEPPER)


def test_a_hash_without_pepper_logs_in_and_gets_the_pepper(db: Database) -> None:
    add_contact(db)  # hashed from the digits alone, as before the pepper
    assert load_contact(db).password_pepper is None
    assert login(db, PEPPER) == "ok"
    contact = load_contact(db)
    assert contact.password_pepper == PEPPER.id
    assert contact.password_hash is not None
    assert password_matches(PASSWORD, contact.password_hash, rounds=ROUNDS, pepper=PEPPER)
    assert not bcrypt.checkpw(PASSWORD.encode(), contact.password_hash.encode())
    assert login(db, PEPPER, call_sid="CA-again") == "ok"
    assert load_contact(db).password_hash == contact.password_hash  # upgraded once


def test_a_wrong_password_upgrades_nothing(db: Database) -> None:
    add_contact(db)
    before = load_contact(db).password_hash
    assert login(db, PEPPER, password=WRONG_PASSWORD) == "failed"
    assert (load_contact(db).password_hash, load_contact(db).password_pepper) == (before, None)


def test_a_peppered_hash_is_refused_by_a_server_without_that_pepper(
        db: Database, caplog: pytest.LogCaptureFixture) -> None:
    add_contact(db)
    assert login(db, PEPPER) == "ok"
    with caplog.at_level(logging.ERROR, logger="auth.service"):
        assert login(db, None, call_sid="CA-2") == "failed"
        assert login(db, OTHER_PEPPER, call_sid="CA-3") == "failed"
    assert sum("made with another pepper" in r.getMessage() for r in caplog.records) == 2
    assert load_contact(db).password_pepper == PEPPER.id  # nothing rewritten
    assert login(db, PEPPER, call_sid="CA-4") == "ok"


def demo_contact(password_field: dict[str, str]) -> dict[str, object]:
    return {
        "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}],
        "contacts": [{"cpf": CPF, "name": "Maria Silva", "company": CNPJ, **password_field}],
    }


def test_an_imported_password_is_peppered(db: Database) -> None:
    sections = import_sections(PEPPER)
    import_data(db, demo_contact({"password": PASSWORD}), sections=sections, rounds=ROUNDS)
    contact = load_contact(db)
    assert contact.password_pepper == PEPPER.id and contact.password_hash is not None
    assert password_matches(PASSWORD, contact.password_hash, rounds=ROUNDS, pepper=PEPPER)
    # importing it again changes nothing (same password, same pepper)
    again = import_data(db, demo_contact({"password": PASSWORD}), sections=sections,
                        rounds=ROUNDS)
    assert not again.changed
    # the same file on a server with another pepper: rehashed with that one
    import_data(db, demo_contact({"password": PASSWORD}), sections=import_sections(OTHER_PEPPER),
                rounds=ROUNDS)
    assert load_contact(db).password_pepper == OTHER_PEPPER.id


def test_an_imported_hash_made_elsewhere_keeps_working(db: Database) -> None:
    elsewhere = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(ROUNDS)).decode()
    import_data(db, demo_contact({"password_hash": elsewhere}), sections=import_sections(PEPPER),
                rounds=ROUNDS)
    contact = load_contact(db)
    assert (contact.password_hash, contact.password_pepper) == (elsewhere, None)
    assert login(db, PEPPER) == "ok"
    assert load_contact(db).password_pepper == PEPPER.id


@pytest.fixture
def peppered_app(database_url: str, menus_file: Path, monkeypatch: pytest.MonkeyPatch
                 ) -> Flask:
    monkeypatch.setenv("PASSWORD_PEPPER", "p" * 40)
    return create_app({"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "MENUS_FILE": menus_file, "BCRYPT_ROUNDS": ROUNDS, "TESTING": True})


def test_the_server_peppers_with_password_pepper(peppered_app: Flask, db: Database) -> None:
    """``PASSWORD_PEPPER`` reaches the import and ``contacts set-password``."""
    pepper = Pepper(b"p" * 40)
    assert peppered_app.config["PASSWORD_PEPPER"] == pepper
    try:
        import_data(db, demo_contact({"password": PASSWORD}),
                    sections=peppered_app.extensions["import_sections"], rounds=ROUNDS)
        assert load_contact(db).password_pepper == pepper.id
        result = peppered_app.test_cli_runner().invoke(
            args=["contacts", "set-password", CPF], input="864213\n")
        assert result.exit_code == 0, result.output
        contact = load_contact(db)
        assert contact.password_pepper == pepper.id and contact.password_hash is not None
        assert password_matches("864213", contact.password_hash, rounds=ROUNDS, pepper=pepper)
    finally:
        shutdown(peppered_app)


def test_the_demo_file_imports_with_a_pepper(db: Database) -> None:
    demo = json.loads((Path(__file__).resolve().parent.parent / "demo" / "demo-data.json")
                      .read_text())
    import_data(db, demo, sections=import_sections(PEPPER), rounds=ROUNDS)
    assert load_contact(db).password_pepper == PEPPER.id
    assert login(db, PEPPER) == "ok"
