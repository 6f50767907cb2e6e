"""Around the call through real processes: ``flask tickets remind`` asks a local stand-in of the
provider's REST API for the call, and a real gunicorn answers the call's webhooks (the
reminder's login and ticket, the survey after a transfer, the status callback). SQLite, or
PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from surveys.models import SurveyAnswer
from tests.conftest import AUTH_TOKEN, MARIA_CPF, MARIA_PASSWORD, ROOT
from tests.e2e import LiveServer, live_server
from tests.provider_api import ACCOUNT_SID, provider_api
from tests.test_voice_tickets import login_through, post
from tickets.models import ReminderCall

DUE = "2026-12-02T10:00:00-03:00"  # the demo ticket's reminder is due; a Wednesday in hours


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-around"), frozen_time=DUE) as server:
        yield server


def test_a_reminder_placed_by_the_job_is_answered_by_the_server(live: LiveServer) -> None:
    with provider_api() as api:
        env = {**os.environ, "DATABASE_URL": live.database.url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_URL": api.url,
               "OUTBOUND_CALLER_ID": "+551140030015", "PUBLIC_BASE_URL": live.server.base,
               "IVR_FROZEN_TIME": DUE, "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "tickets", "remind"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                              check=True)
        (sent,) = api.calls()
    assert done.stdout.startswith("12345678: reminder call ")
    url = sent.form["Url"].removeprefix(live.server.base)
    doc = post(live.caller, url, sid=sent.sid, AnsweredBy="human")
    assert "lembrete para Maria" in doc.spoken()
    doc = post(live.caller, doc.next_url(), MARIA_PASSWORD, sent.sid)
    assert "1 2 3 4 5 6 7 8" in doc.spoken() and "aceitar a solução" in doc.spoken()
    status = sent.form["StatusCallback"].removeprefix(live.server.base)
    response = live.caller.post(status, {"CallSid": sent.sid, "CallStatus": "completed",
                                         "CallDuration": "42"})
    assert response.status_code == 204
    with live.database.transaction() as session:
        reminder = session.scalars(select(ReminderCall)).one()
        assert (reminder.answered_by, reminder.final_status) == ("human", "completed")


def test_the_survey_after_a_transfer_the_person_ended(live: LiveServer) -> None:
    sid = "CA" + "e2" * 16
    doc = post(live.caller, "/voice", sid=sid)
    for key in "223991":
        doc = post(live.caller, doc.next_url(), key, sid)
    doc = login_through(live.caller, doc, MARIA_CPF, MARIA_PASSWORD, sid)
    doc = post(live.caller, doc.next_url(), sid=sid, DialCallStatus="completed",
               CallStatus="in-progress")
    doc = post(live.caller, doc.next_url(), "5", sid)
    assert doc.first("Record") is not None
    with live.database.transaction() as session:
        answer = session.scalars(select(SurveyAnswer)).one()
        assert (answer.call_sid, answer.score, answer.team) == (sid, 5, "educacional")

