"""End to end through a real gunicorn (two workers) with requests signed like the provider's: the
demo data imported, option 7, the three teams behind a phone login, a forged request, /healthz and
the call record completed by the status callback. PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from database.migrate import upgrade
from database.session import Database
from ivr.calls.models import Call
from ivr.menu import load_menu
from tests.conftest import (
    AUTH_TOKEN,
    DEMO_DATA,
    MARIA_CPF,
    MARIA_PASSWORD,
    ROOT,
    call_form,
    reset_postgres,
)
from tests.importing import import_data
from tests.server import Gunicorn, HttpResponse, ProviderClient
from tests.twiml import Doc

FROZEN = "2026-12-01T10:00:00-03:00"  # a Tuesday, in hours, not plantão
CALLER = "+5511987654321"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like conftest's ``database_url``, for the whole module (one server for all tests)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'ivr.sqlite3'}"
    upgrade(url)
    database = Database(url)
    import_data(database, json.loads(DEMO_DATA.read_text()), rounds=4)
    database.dispose()
    yield url
    if os.environ.get("TEST_DATABASE_URL"):
        reset_postgres(url)


@pytest.fixture(scope="module")
def server(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    log = tmp_path_factory.mktemp("e2e-log") / "gunicorn.log"
    gunicorn = Gunicorn({
        "DATABASE_URL": db_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "MENUS_FILE": str(ROOT / "menus.yaml"),
        "BCRYPT_ROUNDS": "10",  # the lowest the environment accepts
        "IVR_FROZEN_TIME": FROZEN,
        "E2E_LOG": str(log),
    }, workers=2)
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")


@pytest.fixture(scope="module")
def phone(server: Gunicorn) -> ProviderClient:
    return ProviderClient(server.base, AUTH_TOKEN)


def step(phone: ProviderClient, url: str, sid: str, digits: str | None = None,
         **extra: str) -> Doc:
    form = call_form(sid, From=CALLER, Caller=CALLER, **extra)
    if digits is not None:
        form["Digits"] = digits
    response = phone.post(url, form)
    assert response.status == 200, response.body
    assert response.content_type.startswith("text/xml"), response.content_type
    return response.doc


def walk(phone: ProviderClient, sid: str, keys: list[str]) -> Doc:
    doc = step(phone, "/voice", sid)
    for key in keys:
        doc = step(phone, doc.next_url(), sid, key)
    return doc


def slow_walk(phone: ProviderClient, sid: str, keys: list[str | None]) -> Doc:
    """A walk whose steps are each written before the next one is sent.

    The clock is frozen (IVR_FROZEN_TIME), so every step carries the same time and the call
    record cannot order steps written by different workers: with real clocks they are seconds
    apart. The recorder writes within ~0.25 s.
    """
    doc = step(phone, "/voice", sid)
    for key in keys:
        time.sleep(0.4)
        doc = step(phone, doc.next_url(), sid, key)
    return doc


def call_row(db_url: str, sid: str, ready: object, timeout: float = 3.0) -> Call | None:
    """The call's row once ``ready(row)`` holds; call records are written off the hot path."""
    database = Database(db_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with database.transaction() as session:
                row = session.scalars(select(Call).where(Call.call_sid == sid)).one_or_none()
            if (row is not None and ready(row)) or time.monotonic() > deadline:  # type: ignore[operator]
                return row
            time.sleep(0.05)
    finally:
        database.dispose()


def test_healthz_names_the_menu_version(server: Gunicorn) -> None:
    response = server.get("/healthz")
    assert response.status == 200
    body = json.loads(response.body)
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["menu"]["version"] == load_menu(ROOT / "menus.yaml").version
    assert body["menu"]["version"].startswith("1+")
    assert body["menu"]["refused_edit"] is None


def test_option_7_dials_the_cadastro_team(phone: ProviderClient) -> None:
    doc = walk(phone, "CA" + "e7" * 16, ["7"])
    assert doc.dial_target() == "+5511900000007"
    assert "equipe de cadastro" in doc.spoken()
    assert doc.dial.attrib["action"].startswith("/voice/dialed?s=cadastro.")


@pytest.mark.parametrize(("key", "number"), [("1", "+5511900000001"), ("2", "+5511900000002"),
                                             ("3", "+5511900000003")])
def test_teams_need_a_login_and_then_dial(phone: ProviderClient, key: str, number: str) -> None:
    sid = f"CA{'e' * 31}{key}"
    doc = walk(phone, sid, ["2", "2", "3", "9", "9", key])
    assert doc.first("Dial") is None
    login = doc.next_url()
    assert login.startswith("/voice/auth/login?")
    doc = step(phone, login, sid)
    assert "CPF" in doc.spoken()
    # The CPF and password steps may land on either worker: the pending CPF is in the database.
    doc = step(phone, doc.next_url(), sid, MARIA_CPF)
    assert "senha" in doc.spoken()
    assert MARIA_CPF not in doc.raw
    doc = step(phone, doc.next_url(), sid, MARIA_PASSWORD)
    assert "Maria" in doc.spoken()
    assert doc.dial_target() == number


def test_a_wrong_password_does_not_dial(phone: ProviderClient) -> None:
    sid = "CA" + "ef" * 16
    doc = walk(phone, sid, ["2", "2", "3", "9", "9", "1"])
    doc = step(phone, doc.next_url(), sid)
    doc = step(phone, doc.next_url(), sid, MARIA_CPF)
    doc = step(phone, doc.next_url(), sid, "999999")
    assert doc.first("Dial") is None
    assert doc.gather.attrib["action"].startswith("/voice/auth/cpf")


def test_a_badly_signed_request_is_refused(
    phone: ProviderClient, server: Gunicorn, db_url: str
) -> None:
    sid = "CA" + "eb" * 16
    form = call_form(sid)
    forged = ProviderClient(server.base, "not-the-token").post("/voice", form)
    assert forged.status == 403
    unsigned = phone.post("/voice", form, signature="")
    assert unsigned.status == 403
    tampered = phone.post("/voice/step?s=principal.0.0..principal",
                          {**form, "Digits": "7"},
                          signature=phone.validator.compute_signature(
                              phone.public_base + "/voice/step?s=principal.0.0..principal",
                              {**form, "Digits": "2"}))
    assert tampered.status == 403
    time.sleep(0.5)
    database = Database(db_url)
    try:
        with database.transaction() as session:
            assert session.get(Call, sid) is None
    finally:
        database.dispose()


def test_status_callback_completes_the_call_record(phone: ProviderClient, db_url: str) -> None:
    sid = "CA" + "ec" * 16
    doc = slow_walk(phone, sid, ["7"])
    assert doc.dial_target() == "+5511900000007"
    response: HttpResponse = phone.post("/voice/status", call_form(
        sid, From=CALLER, Caller=CALLER, CallStatus="completed", CallDuration="42"))
    assert response.status == 204
    assert response.body == b""

    row = call_row(db_url, sid, lambda r: r.ended_at is not None and r.outcome == "transferred")
    assert row is not None
    assert row.path.split(",") == ["principal", "cadastro"]
    assert row.outcome == "transferred"
    assert row.outcome_detail == "cadastro:+5511900000007"
    assert row.duration_seconds == 42
    assert row.final_status == "completed"
    frozen = datetime.fromisoformat(FROZEN).astimezone(UTC)
    assert row.ended_at == frozen
    # The start is the end less the provider's duration.
    assert row.started_at == frozen - timedelta(seconds=42)
    assert row.from_number == CALLER
    assert row.to_number == "+551140030015"
    assert row.steps == 1  # only the move to cadastro: the main menu itself writes nothing


def test_a_call_through_the_teams_records_the_whole_path(
    phone: ProviderClient, db_url: str
) -> None:
    sid = "CA" + "ed" * 16
    doc = slow_walk(phone, sid, ["2", "2", "3", "9", "9", "3", None, MARIA_CPF, MARIA_PASSWORD])
    assert doc.dial_target() == "+5511900000003"
    phone.post("/voice/status", call_form(sid, CallStatus="completed", CallDuration="95"))
    row = call_row(db_url, sid, lambda r: r.ended_at is not None and r.outcome == "transferred")
    assert row is not None
    assert row.path.split(",") == ["principal", "suporte", "linha_rm", "educacao", "ofertas",
                                   "oferta_p", "nfe"]
    assert (row.outcome, row.outcome_detail) == ("transferred", "nfe:+5511900000003")
    assert row.duration_seconds == 95
    # Nothing a caller keyed for the login ends up in the record.
    assert MARIA_CPF not in repr(vars(row)) and MARIA_PASSWORD not in repr(vars(row))


def test_the_server_log_never_shows_a_cpf(server: Gunicorn) -> None:
    log = Path(server.env["E2E_LOG"]).read_text(errors="replace")
    assert MARIA_CPF not in log and MARIA_PASSWORD not in log
