"""``tickets remind``: reminder calls through the real ``twilio.rest.Client`` against a local
stand-in of the provider's REST API, on SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app, shutdown
from database.session import Database
from tests.conftest import (
    AUTH_TOKEN,
    DEMO_DATA,
    MARIA_CPF,
    MARIA_PASSWORD,
    ROOT,
    Clock,
    SignedClient,
    call_form,
)
from tests.importing import import_data
from tests.provider_api import ACCOUNT_SID, CALLS_PATH, ProviderApi, provider_api
from tests.twiml import Doc
from tickets.models import ReminderCall, Ticket
from tickets.outbound import OutboundCalls, OutboundSettings
from tickets.reminders import place_due

PUBLIC = "http://localhost"
CALLER_ID = "+551140030015"
MARIA_PHONE = "+5511987650001"
# The demo's ticket 12345678 has its solution of 20 November: deadline 6 December 00:00, reminder
# due from 2 December 00:00 (São Paulo).
DUE = datetime.fromisoformat("2026-12-02T10:00:00-03:00")  # a Wednesday, in hours
NEXT_DAY = datetime.fromisoformat("2026-12-03T10:00:00-03:00")


@pytest.fixture
def api() -> Iterator[ProviderApi]:
    with provider_api() as stand_in:
        yield stand_in


def settings(api_url: str) -> dict[str, object]:
    return {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_URL": api_url,
            "OUTBOUND_CALLER_ID": CALLER_ID, "PUBLIC_BASE_URL": PUBLIC}


@pytest.fixture
def app(database_url: str, menus_file: Path, clock: Clock, api: ProviderApi) -> Iterator[Flask]:
    application = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "MENU_RELOAD_SECONDS": 0.02, "CLOCK": clock, "TESTING": True,
        **settings(api.url),
    })
    import_data(application.extensions["database"], json.loads(DEMO_DATA.read_text()), rounds=4)
    yield application
    shutdown(application)


def remind(app: Flask, at: datetime) -> list[str]:
    result = app.test_cli_runner().invoke(args=["tickets", "remind", "--now", at.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def reminders(app: Flask) -> list[ReminderCall]:
    with app.extensions["database"].transaction() as session:
        return list(session.scalars(select(ReminderCall).order_by(ReminderCall.id)))


def status_callback(signed: SignedClient, call_sid: str, status: str) -> None:
    form = call_form(call_sid, CallStatus=status, Direction="outbound-api", CallDuration="0")
    assert signed.post("/voice/status", form).status_code == 204


def answer(signed: SignedClient, reminder: ReminderCall, answered_by: str) -> Doc:
    assert reminder.call_sid is not None
    form = call_form(reminder.call_sid, AnsweredBy=answered_by, Direction="outbound-api",
                     From=CALLER_ID, To=MARIA_PHONE)
    response = signed.post(f"/voice/reminders/answer?r={reminder.id}", form)
    assert response.status_code == 200
    return Doc.parse(response.data)


def test_a_due_reminder_is_one_call_with_what_the_provider_needs(
        app: Flask, api: ProviderApi) -> None:
    lines = remind(app, DUE)
    (sent,) = api.calls()
    (reminder,) = reminders(app)
    assert (sent.user, sent.password) == (ACCOUNT_SID, AUTH_TOKEN)
    assert sent.form["To"] == MARIA_PHONE and sent.form["From"] == CALLER_ID
    assert sent.form["Url"] == f"{PUBLIC}/voice/reminders/answer?r={reminder.id}"
    assert sent.form["Method"] == sent.form["StatusCallbackMethod"] == "POST"
    assert sent.form["StatusCallback"] == f"{PUBLIC}/voice/status"
    assert sent.form["MachineDetection"] == "DetectMessageEnd"
    assert (reminder.call_sid, reminder.state, reminder.attempt) == (sent.sid, "placed", 1)
    assert lines == [f"12345678: reminder call {sent.sid} to {MARIA_PHONE} (attempt 1)"]


def test_run_twice_in_a_row_one_call(app: Flask, api: ProviderApi) -> None:
    remind(app, DUE)
    assert remind(app, DUE.replace(hour=15)) == []
    assert len(api.calls()) == 1


@pytest.mark.parametrize("moment", [
    "2026-12-02T06:59:00-03:00",  # before the line opens
    "2026-12-02T19:30:00-03:00",  # after it closes
    "2026-12-05T10:00:00-03:00",  # Saturday
])
def test_out_of_hours_no_call(app: Flask, api: ProviderApi, moment: str) -> None:
    assert remind(app, datetime.fromisoformat(moment)) == []
    assert api.calls() == [] and reminders(app) == []


def test_not_yet_due_and_past_the_deadline_no_call_and_the_closing_is_recorded(
        app: Flask, api: ProviderApi) -> None:
    assert remind(app, datetime.fromisoformat("2026-12-01T18:00:00-03:00")) == []
    lines = remind(app, datetime.fromisoformat("2026-12-07T10:00:00-03:00"))
    assert lines == ["1 ticket(s) closed automatically (deadline passed)."]
    assert api.calls() == []
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        assert (ticket.status, ticket.closed_how) == ("closed", "automatic")


def test_an_unanswered_call_is_retried_on_the_next_business_days_twice_at_most(
        app: Flask, api: ProviderApi, signed_public: SignedClient) -> None:
    remind(app, DUE)
    status_callback(signed_public, api.calls()[0].sid, "no-answer")
    assert remind(app, DUE.replace(hour=16)) == []  # not the same day again
    assert len(remind(app, NEXT_DAY)) == 1
    status_callback(signed_public, api.calls()[1].sid, "busy")
    assert len(remind(app, datetime.fromisoformat("2026-12-04T09:00:00-03:00"))) == 1
    # Saturday is closed, and the deadline passes before Monday: three calls in all.
    assert remind(app, datetime.fromisoformat("2026-12-05T10:00:00-03:00")) == []
    assert [(r.attempt, r.final_status) for r in reminders(app)] == [
        (1, "no-answer"), (2, "busy"), (3, None)]
    assert len(api.calls()) == 3


def test_after_the_second_retry_no_more_calls(app: Flask, api: ProviderApi) -> None:
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        # Reminder due from Monday 7 December, last day Thursday 10: four business days.
        ticket.solution_at = datetime.fromisoformat("2026-11-25T10:00:00-03:00")
    days = ["2026-12-04", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10"]
    placed = [remind(app, datetime.fromisoformat(f"{day}T10:00:00-03:00")) for day in days]
    assert [len(lines) for lines in placed] == [0, 1, 1, 1, 0]
    assert [r.attempt for r in reminders(app)] == [1, 2, 3]


def test_an_answering_machine_hears_the_ticket_and_the_line_and_no_menu(
        app: Flask, api: ProviderApi, signed_public: SignedClient) -> None:
    remind(app, DUE)
    (reminder,) = reminders(app)
    doc = answer(signed_public, reminder, "machine_end_beep")
    assert doc.verbs == ["Say", "Hangup"]
    assert "1 2 3 4 5 6 7 8" in doc.spoken() and "4003-0015" in doc.spoken()
    assert doc.first("Gather") is None
    status_callback(signed_public, reminder.call_sid or "", "completed")
    assert remind(app, NEXT_DAY) == []  # the message was left: no retry


def test_a_person_is_greeted_by_name_logs_in_and_gets_the_inbound_choices(
        app: Flask, api: ProviderApi, signed_public: SignedClient) -> None:
    remind(app, DUE)
    (reminder,) = reminders(app)
    doc = answer(signed_public, reminder, "human")
    assert "lembrete para Maria" in doc.spoken()
    assert "senha" in doc.spoken() and "CPF" not in doc.spoken()  # the call is for her
    sid = reminder.call_sid or ""
    url = doc.next_url().removeprefix(PUBLIC)
    assert url.startswith("/voice/auth/password")
    doc = follow(signed_public, url, sid, Digits=MARIA_PASSWORD)
    spoken = doc.spoken()
    assert "1 2 3 4 5 6 7 8" in spoken and "aceitar a solução, tecle 2" in spoken
    assert "prorrogar" in spoken and "recusar" in spoken and "especialista" in spoken
    doc = follow(signed_public, doc.next_url().removeprefix(PUBLIC), sid, Digits="2")
    doc = follow(signed_public, doc.next_url().removeprefix(PUBLIC), sid, Digits="1")
    assert "solução foi aceita" in doc.spoken()
    status_callback(signed_public, sid, "completed")
    assert remind(app, NEXT_DAY) == []


def test_a_wrong_password_on_a_reminder_is_refused(
        app: Flask, api: ProviderApi, signed_public: SignedClient) -> None:
    remind(app, DUE)
    (reminder,) = reminders(app)
    doc = answer(signed_public, reminder, "human")
    doc = follow(signed_public, doc.next_url().removeprefix(PUBLIC), reminder.call_sid or "",
                 Digits="000000")
    assert "não conferem" in doc.spoken() and "1 2 3 4 5 6 7 8" not in doc.spoken()


def test_a_stray_answer_webhook_hears_goodbye(
        app: Flask, api: ProviderApi, signed_public: SignedClient) -> None:
    remind(app, DUE)
    (reminder,) = reminders(app)
    form = call_form("CA" + "9" * 32, AnsweredBy="human")  # another call
    doc = Doc.parse(signed_public.post(f"/voice/reminders/answer?r={reminder.id}", form).data)
    assert doc.verbs == ["Say", "Hangup"] and "senha" not in doc.spoken()
    for url in ("/voice/reminders/answer?r=999999", "/voice/reminders/answer?r=abc",
                "/voice/reminders/answer"):
        response = signed_public.post(url, form)
        assert response.status_code == 200 and b"Hangup" in response.data


def test_a_provider_failure_spends_the_attempt_and_a_later_day_retries(
        app: Flask, api: ProviderApi) -> None:
    api.fail_with = 500
    assert remind(app, DUE) == []
    assert [r.state for r in reminders(app)] == ["failed"]
    api.fail_with = 0
    assert remind(app, DUE.replace(hour=11)) == []
    assert len(remind(app, NEXT_DAY)) == 1


def test_without_an_account_reminders_are_skipped_with_a_warning_and_closings_recorded(
        database_url: str, menus_file: Path, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    bare = create_app({"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "MENUS_FILE": menus_file, "CLOCK": clock, "TESTING": True})
    try:
        import_data(bare.extensions["database"], json.loads(DEMO_DATA.read_text()), rounds=4)
        assert remind(bare, DUE) == []
        assert "reminder calls skipped: TWILIO_ACCOUNT_SID" in caplog.text
        assert reminders(bare) == []
        assert remind(bare, datetime.fromisoformat("2026-12-07T10:00:00-03:00")) == [
            "1 ticket(s) closed automatically (deadline passed)."]
    finally:
        shutdown(bare)


def test_the_admin_is_called_when_the_ticket_names_no_contact(
        app: Flask, api: ProviderApi) -> None:
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        ticket.contact_id = None
    remind(app, DUE)
    assert [sent.form["To"] for sent in api.calls()] == [MARIA_PHONE]  # Maria is the admin


# --- at once -----------------------------------------------------------------------------------

MANY = 6


def add_due_tickets(database: Database) -> None:
    """More solutions of 20 November, so concurrent runs have several claims to race for."""
    tickets = [{"number": f"5555000{n}", "company": "11222333000181", "area": "educacional",
                "status": "solution_proposed", "summary": "Boleto", "contact": MARIA_CPF,
                "opened_at": "2026-11-02T10:15:00-03:00",
                "solution_at": "2026-11-20T16:00:00-03:00"} for n in range(MANY - 1)]
    import_data(database, {"tickets": tickets}, rounds=4)


def test_two_jobs_at_once_in_threads_place_one_call_per_solution(
        app: Flask, database_url: str) -> None:
    add_due_tickets(app.extensions["database"])
    with provider_api(delay=0.2) as slow:
        config: dict[str, Any] = {**app.config, **settings(slow.url)}
        outbound = OutboundSettings.from_config(config)
        assert isinstance(outbound, OutboundSettings)
        menu = app.extensions["menu_registry"].current()
        start = threading.Barrier(3)
        lines: list[str] = []

        def job() -> None:
            database = Database(database_url)  # as another process would: its own connections
            start.wait()
            lines.extend(place_due(database, menu, DUE, OutboundCalls(outbound),
                                   lambda rid: f"/voice/reminders/answer?r={rid}", "/voice/status"))
            database.dispose()

        threads = [threading.Thread(target=job) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        numbers = sorted(sent.form["Url"] for sent in slow.calls())
    assert len(numbers) == len(set(numbers)) == MANY
    assert len(lines) == MANY
    assert len(reminders(app)) == MANY


def test_two_processes_at_once_place_one_call_per_solution(
        app: Flask, database_url: str, menus_file: Path) -> None:
    add_due_tickets(app.extensions["database"])
    with provider_api(delay=0.3) as slow:
        env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "MENUS_FILE": str(menus_file), "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
               "TWILIO_API_URL": slow.url, "OUTBOUND_CALLER_ID": CALLER_ID,
               "PUBLIC_BASE_URL": PUBLIC, "IVR_FROZEN_TIME": DUE.isoformat(),
               "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "flask", "--app", "app", "tickets", "remind"]
        jobs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [job.communicate(timeout=120) for job in jobs]
        assert [job.returncode for job in jobs] == [0, 0], outputs
        sent = slow.calls()
    placed = [line for out, _ in outputs for line in out.splitlines() if "reminder call" in line]
    assert len(sent) == len({s.form["Url"] for s in sent}) == MANY
    assert len(placed) == MANY
    assert all(s.path == CALLS_PATH for s in sent)


# --- helpers -----------------------------------------------------------------------------------

@pytest.fixture
def signed_public(app: Flask) -> SignedClient:
    return SignedClient(app.test_client(), base=PUBLIC)


def follow(signed: SignedClient, url: str, sid: str, **extra: str) -> Doc:
    """Posts to ``url`` and follows redirects, collecting what was said on the way."""
    response = signed.post(url, call_form(sid, Direction="outbound-api", **extra))
    assert response.status_code == 200, response.data
    doc = Doc.parse(response.data)
    if doc.is_redirect_only:
        heard = doc.spoken()
        doc = follow(signed, doc.next_url().removeprefix(PUBLIC), sid)
        doc.heard_before = f"{heard} {doc.heard_before}".strip()
    return doc
