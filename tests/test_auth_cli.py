"""``flask --app app contacts set-password CPF`` and ``contacts unlock CPF``."""

from __future__ import annotations

import io
from typing import Any

import bcrypt
import pytest
from flask import Flask

from auth.models import Contact
from auth.passwords import hash_cost
from database.session import Database
from tests.conftest_auth import CPF, NOW, UNKNOWN_CPF, add_contact, load_contact


@pytest.fixture
def db(app: Flask) -> Database:
    database: Database = app.extensions["database"]
    return database


def invoke(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(args=["contacts", *args], input=input)


def test_set_password_from_stdin(app: Flask, db: Database) -> None:
    add_contact(db, password=None)

    result = invoke(app, "set-password", "529.982.247-25", input="7531\n")

    assert result.exit_code == 0, result.output
    assert result.stdout == "password set for ***.***.***-25\n"
    stored = load_contact(db).password_hash
    assert stored is not None and hash_cost(stored) == 4  # the app's BCRYPT_ROUNDS
    assert bcrypt.checkpw(b"7531", stored.encode())
    assert "7531" not in result.output


class Terminal(io.BytesIO):
    """Standard input that says it is a terminal, as an admin's shell's is."""

    def isatty(self) -> bool:
        return True


def test_set_password_on_a_terminal_asks_twice_hidden(app: Flask, db: Database) -> None:
    add_contact(db, password=None)

    result = app.test_cli_runner().invoke(args=["contacts", "set-password", CPF],
                                          input=Terminal(b"2468\n2468\n"))

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "2468" not in result.output  # hidden input is not echoed
    stored = load_contact(db).password_hash
    assert stored is not None and bcrypt.checkpw(b"2468", stored.encode())


@pytest.mark.parametrize(
    ("cpf", "password", "message"),
    [
        (CPF, "12a4", "the password must be 4 to 12 digits"),
        (CPF, "", "the password must be 4 to 12 digits"),
        (UNKNOWN_CPF, "4821", "no contact with CPF ***.***.***-05"),
        ("52998224724", "4821", "***.***.***-24 is not a valid CPF: invalid check digits"),
    ],
)
def test_set_password_errors_exit_1(
    app: Flask, db: Database, cpf: str, password: str, message: str
) -> None:
    add_contact(db)
    before = load_contact(db).password_hash

    result = invoke(app, "set-password", cpf, input=f"{password}\n")

    assert result.exit_code == 1
    assert result.stderr == message + "\n"
    assert "Traceback" not in result.output
    assert load_contact(db).password_hash == before


def test_unlock(app: Flask, db: Database) -> None:
    contact_id = add_contact(db)
    with db.transaction() as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        contact.failed_attempts, contact.locked_until = 5, NOW

    result = invoke(app, "unlock", CPF)

    assert result.exit_code == 0, result.output
    assert result.stdout == "***.***.***-25 unlocked\n"
    contact = load_contact(db)
    assert (contact.failed_attempts, contact.locked_until) == (0, None)


def test_unlock_unknown_exits_1(app: Flask, db: Database) -> None:
    result = invoke(app, "unlock", UNKNOWN_CPF)
    assert result.exit_code == 1
    assert result.stderr == "no contact with CPF ***.***.***-05\n"


def test_set_password_refuses_a_password_too_easy_to_guess(app: Flask, db: Database) -> None:
    add_contact(db)
    before = load_contact(db).password_hash

    result = invoke(app, "set-password", CPF, input="123456\n")

    assert result.exit_code == 1
    assert result.stderr == (
        "the password is too easy to guess (consecutive digits, like 1234, 7890 or 4321)\n")
    assert load_contact(db).password_hash == before
