"""``flask --app app data import FILE.json`` through the real app factory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskCliRunner

from app import create_app, shutdown
from database.session import Database
from tests.conftest import Clock
from tests.conftest_auth import CNPJ, CPF, PASSWORD, load_contact, row_counts

GOOD_FILE: dict[str, Any] = {
    "companies": [{"cnpj": CNPJ, "name": "Colégio Exemplo"}],
    "contacts": [{"cpf": CPF, "name": "Maria Silva", "company": CNPJ, "password": PASSWORD}],
}


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return path


def invoke(app: Flask, *args: str) -> Any:
    runner: FlaskCliRunner = app.test_cli_runner()
    return runner.invoke(args=["data", "import", *args])


def test_import_prints_what_changed(app: Flask, database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_FILE)

    first = invoke(app, str(path))
    second = invoke(app, str(path))

    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines() == ["companies: 1 created, 0 updated, 0 unchanged",
                                         "contacts: 1 created, 0 updated, 0 unchanged"]
    assert second.stdout.splitlines() == ["companies: 0 created, 0 updated, 1 unchanged",
                                          "contacts: 0 created, 0 updated, 1 unchanged"]
    db = Database(database_url)
    try:
        assert load_contact(db).password_hash is not None
    finally:
        db.dispose()


def test_a_bad_record_exits_1_naming_it(app: Flask, database_url: str, tmp_path: Path) -> None:
    bad = {**GOOD_FILE, "contacts": [*GOOD_FILE["contacts"],
                                     {"cpf": "12345678900", "name": "Ana", "company": CNPJ}]}
    path = write(tmp_path, bad)

    result = invoke(app, str(path))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "contacts[1].cpf: invalid check digits",
        f"{path}: refused, nothing was imported",
    ]
    assert "Traceback" not in result.output
    db = Database(database_url)
    try:
        assert not any(row_counts(db).values())
    finally:
        db.dispose()


def test_bad_json_exits_1(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"companies": [', encoding="utf-8")
    result = invoke(app, str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("invalid JSON at line 1, column 16")


def test_missing_file_exits_1(app: Flask, tmp_path: Path) -> None:
    result = invoke(app, str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "cannot read the file" in result.stderr


def test_database_without_schema_exits_1_without_traceback(
    tmp_path: Path, menus_file: Path, clock: Clock
) -> None:
    application = create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4,
        "CLOCK": clock,
        "TESTING": True,
    })
    try:
        result = invoke(application, str(write(tmp_path, GOOD_FILE)))
    finally:
        shutdown(application)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "database error: no such table: contacts"
    assert CPF not in result.output and PASSWORD not in result.output
    assert "Traceback" not in result.output
