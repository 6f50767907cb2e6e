"""Shared fixtures: a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), the app
built through its factory, and a client that signs requests like the provider does."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from app import create_app, shutdown
from database.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
# A Tuesday, 10:00 in São Paulo: open, not plantão.
OPEN_HOURS = datetime.fromisoformat("2026-12-01T10:00:00-03:00")


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database; PostgreSQL when TEST_DATABASE_URL is set."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    upgrade(url)
    yield url
    if os.environ.get("TEST_DATABASE_URL"):
        reset_postgres(url)


@pytest.fixture
def menus_file(tmp_path: Path) -> Path:
    target = tmp_path / "menus.yaml"
    shutil.copy(ROOT / "menus.yaml", target)
    return target


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def clock() -> Clock:
    return Clock(OPEN_HOURS)


@pytest.fixture
def app(database_url: str, menus_file: Path, clock: Clock, tmp_path: Path) -> Iterator[Flask]:
    application = create_app({
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4,
        "MENU_RELOAD_SECONDS": 0.02,
        "CLOCK": clock,
        "TESTING": True,
        # Another test's steps, on the same PostgreSQL database, are never this one's.
        "CALL_SPOOL_DIR": tmp_path / "call-steps",
    })
    yield application
    # A recorder thread left running would write this test's calls into the next test's
    # database (PostgreSQL: the same one, recreated).
    shutdown(application)


class SignedClient:
    """Posts form bodies signed with the provider's algorithm (twilio.request_validator)."""

    def __init__(self, client: FlaskClient, token: str = AUTH_TOKEN,
                 base: str = "http://localhost") -> None:
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base

    def post(self, path: str, data: dict[str, str] | None = None,
             signature: str | None = None, **kwargs: object) -> TestResponse:
        data = data or {}
        if signature is None:
            signature = self.validator.compute_signature(self.base + path, data)
        return self.client.post(
            path,
            data=urlencode(data),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": signature},
            **kwargs,
        )


@pytest.fixture
def signed(app: Flask) -> SignedClient:
    return SignedClient(app.test_client())


def call_form(call_sid: str = "CA" + "0" * 32, **extra: str) -> dict[str, str]:
    """The fields the provider sends with a voice webhook."""
    form = {
        "AccountSid": "AC" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Called": "+551140030015",
        "CalledCity": "SAO PAULO",
        "CalledCountry": "BR",
        "CalledState": "SP",
        "CalledZip": "",
        "Caller": "+5511987654321",
        "CallerCity": "SAO PAULO",
        "CallerCountry": "BR",
        "CallerState": "SP",
        "CallerZip": "",
        "Direction": "inbound",
        "From": "+5511987654321",
        "FromCity": "SAO PAULO",
        "FromCountry": "BR",
        "FromState": "SP",
        "FromZip": "",
        "To": "+551140030015",
        "ToCity": "SAO PAULO",
        "ToCountry": "BR",
        "ToState": "SP",
        "ToZip": "",
    }
    form.update(extra)
    return form


DEMO_DATA = ROOT / "demo" / "demo-data.json"
MARIA_CPF, MARIA_PASSWORD = "52998224725", "482913"
JOAO_CPF, JOAO_PASSWORD = "12345678909", "135790"


@pytest.fixture
def demo_data(app: Flask) -> None:
    """Companies, contacts, specialists and tickets of the shipped demo file."""
    import json

    from importer.run import import_data

    import_data(app.extensions["database"], json.loads(DEMO_DATA.read_text()),
                sections=app.extensions["import_sections"], rounds=4)
