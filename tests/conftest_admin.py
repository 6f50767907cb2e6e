"""The console's test helpers: an app with a SECRET_KEY, an admin, a logged-in client (cookies
kept, CSRF tokens read from the pages as a browser sends them).

Not a conftest: the fixtures are imported as ``console_fixture`` and ``browser_fixture`` so test
parameters do not shadow them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from admin.accounts import create_admin
from app import create_app, shutdown
from database.session import Database
from tests.conftest import AUTH_TOKEN, Clock

SECRET = "test-secret-key-0123456789abcdef0123456789"
ADMIN, PASSWORD = "ana", "correct horse battery"


@pytest.fixture(name="console")
def console_fixture(database_url: str, menus_file: Path, clock: Clock) -> Iterator[Flask]:
    application = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "MENU_RELOAD_SECONDS": 0.02, "CLOCK": clock, "TESTING": True,
        "SECRET_KEY": SECRET,
    })
    add_admin(application.extensions["database"], clock)
    yield application
    shutdown(application)


def add_admin(database: Database, clock: Clock, username: str = ADMIN,
              password: str = PASSWORD) -> None:
    with database.transaction() as session:
        create_admin(session, username, password, now=clock(), rounds=4)


def csrf_token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1).decode()


def log_in(client: FlaskClient, username: str = ADMIN, password: str = PASSWORD) -> int:
    token = csrf_token(client.get("/admin/login").data)
    response = client.post("/admin/login", data={
        "csrf_token": token, "username": username, "password": password})
    return response.status_code


@pytest.fixture(name="browser")
def browser_fixture(console: Flask) -> FlaskClient:
    client = console.test_client()
    assert log_in(client) == 302
    return client
