"""A migrated database with the demo data and a real gunicorn serving it, for end-to-end tests."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from database import Database
from database.migrate import upgrade
from tests.conftest import AUTH_TOKEN, DEMO_DATA, reset_postgres
from tests.importing import import_data
from tests.server import Gunicorn, ProviderClient

IN_HOURS = "2026-12-01T10:00:00-03:00"  # a Tuesday


@dataclass
class Answer:
    """The shape of a Flask test response, so the same walk helpers drive both."""

    status_code: int
    data: bytes


class GunicornCaller:
    def __init__(self, client: ProviderClient) -> None:
        self.client = client

    def post(self, path: str, data: dict[str, str] | None = None) -> Answer:
        response = self.client.post(path, data or {})
        return Answer(response.status, response.body)


@dataclass
class LiveServer:
    server: Gunicorn
    caller: GunicornCaller
    database: Database


@contextmanager
def live_server(tmp: Path, frozen_time: str = IN_HOURS, workers: int = 2,
                environ: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """SQLite in ``tmp``, or PostgreSQL when TEST_DATABASE_URL is set; ``environ`` adds to the
    server's environment."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp / 'e2e.sqlite3'}"
    if os.environ.get("TEST_DATABASE_URL"):
        reset_postgres(url)
    upgrade(url)
    database = Database(url)
    import_data(database, json.loads(DEMO_DATA.read_text()), rounds=4)
    server = Gunicorn({
        "DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "IVR_FROZEN_TIME": frozen_time,
        "BCRYPT_ROUNDS": "10",  # the lowest the environment accepts
        "E2E_LOG": str(tmp / "gunicorn.log"),
        **(environ or {}),
    }, workers=workers)
    server.start()
    try:
        yield LiveServer(server, GunicornCaller(ProviderClient(server.base, AUTH_TOKEN)), database)
    finally:
        server.stop()
        database.dispose()
        if os.environ.get("TEST_DATABASE_URL"):
            reset_postgres(url)


def form_body(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()
