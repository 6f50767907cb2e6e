"""LGPD: ``data purge`` deletes exactly what is older than each retention setting, and sweeps
rows past their use; ``contacts forget CPF`` erases one person and keeps the anonymous counts.
On SQLite, and on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.models import AdminLogin
from auth.models import CallerFailure, CallLogin, Contact, LineLoginFailures, LoginAttempt
from auth.pending import PendingLogin
from ivr.calls.models import Call, CallStep
from models import metadata
from ouvidoria.models import OuvidoriaContact
from privacy.rules import Purge
from surveys.models import SurveyAnswer
from tests.conftest import (
    JOAO_CPF,
    JOAO_PASSWORD,
    MARIA_CPF,
    MARIA_PASSWORD,
    OPEN_HOURS,
    SignedClient,
    call_form,
)
from tests.test_voice_login import login, post, to_team_login
from tickets.enums import EventKind
from tickets.models import ReminderCall, Ticket, TicketEvent, VoiceMessageSlot

NOW = OPEN_HOURS
SECOND = timedelta(seconds=1)
RETENTION = {"calls": 30, "logins": 10, "recordings": 5, "survey_comments": 7}


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def ticket_id(session: Session, number: str = "12345678") -> int:
    return session.scalars(select(Ticket.id).where(Ticket.number == number)).one()


def days(n: float) -> timedelta:
    return timedelta(days=n)


def seed_ages(session: Session) -> None:
    """For every rule, one row just past its age and one just within it."""
    for name, age in (("old", SECOND), ("new", -SECOND)):
        calls_cutoff = NOW - days(RETENTION["calls"]) - age
        recordings_cutoff = NOW - days(RETENTION["recordings"]) - age
        session.add_all([
            Call(call_sid=f"CA-{name}-started", started_at=calls_cutoff, path="principal"),
            Call(call_sid=f"CA-{name}-unstarted", updated_at=calls_cutoff, path="principal"),
            Call(call_sid=f"CA-{name}-voicemail", started_at=recordings_cutoff, path="recado",
                 last_node="recado", outcome="voicemail",
                 outcome_detail=f"recado:https://api.example.com/{name}.mp3"),
            CallStep(call_sid=f"CA-{name}-started", seq=1, at=calls_cutoff, step="start",
                     node="principal", input_kind="none", key_count=0),
            CallStep(call_sid=f"CA-{name}-voicemail", seq=1, at=recordings_cutoff,
                     step="recorded", node="recado", input_kind="none", key_count=0,
                     outcome="voicemail",
                     outcome_detail=f"recado:https://api.example.com/{name}.mp3"),
            LoginAttempt(at=NOW - days(RETENTION["logins"]) - age, masked_cpf="***.***.***-25",
                         caller="+5511900000000", call_sid=f"CA-{name}", result="bad_password"),
            TicketEvent(ticket_id=ticket_id(session), kind=EventKind.VOICE_MESSAGE,
                        call_sid=f"CA-{name}", at=recordings_cutoff,
                        recording_url=f"https://api.example.com/ticket-{name}.mp3"),
            PendingLogin(call_sid=f"CA-{name}", cpf=MARIA_CPF,
                         keyed_at=NOW - timedelta(hours=1) - age),
            CallLogin(call_sid=f"CA-{name}", failures=1, updated_at=NOW - days(2) - age),
            CallerFailure(caller=f"+55119{name}", failures=1,
                          last_failure_at=NOW - timedelta(hours=1) - age),
            VoiceMessageSlot(call_sid=f"CA-{name}", ticket_id=ticket_id(session),
                             offered_at=NOW - timedelta(hours=1) - age),
            ReminderCall(ticket_id=ticket_id(session), solution_at=NOW - days(40),
                         attempt=1 if name == "old" else 2, phone="+5511988887777",
                         claimed_at=calls_cutoff, state="placed", call_sid=f"CA-{name}-reminder"),
            SurveyAnswer(call_sid=f"CA-{name}-survey", score=5,
                         at=NOW - days(RETENTION["survey_comments"]) - age,
                         comment_url=f"https://api.example.com/survey-{name}.mp3"),
            OuvidoriaContact(call_sid=f"CA-{name}-ouvidoria", at=recordings_cutoff,
                             outcome="message",
                             recording_url=f"https://api.example.com/ouvidoria-{name}.mp3"),
        ])
        session.add(AdminLogin(at=NOW - days(RETENTION["logins"]) - age, username=name,
                               result="refused", address="192.0.2.7"))
    session.add_all([LineLoginFailures(minute=NOW - timedelta(minutes=11), failures=3, checks=9),
                     LineLoginFailures(minute=NOW - timedelta(minutes=9), failures=2, checks=7)])


def test_purge_deletes_exactly_what_is_older_than_each_setting(app: Flask,
                                                                demo_data: None) -> None:
    app.config["RETENTION_DAYS"] = RETENTION
    database = app.extensions["database"]
    with database.transaction() as session:
        seed_ages(session)

    result = run(app, "data", "purge")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "login attempts: 1 deleted (older than 10 days)",
        "CPFs keyed without a password: 1 deleted (older than 1 hours, past use)",
        "logins of calls that never ended: 1 deleted (older than 48 hours, past use)",
        "failed-login counts per calling number: 1 deleted (older than 1 hours, past use)",
        "failed-login counts of the line: 1 deleted (older than 10 minutes, past use)",
        "recordings left on tickets: 1 removed (older than 5 days)",
        "voice message offers: 1 deleted (older than 1 hours, past use)",
        "reminder calls: 1 deleted (older than 30 days)",
        "ouvidoria messages: 1 removed (older than 5 days)",
        "survey comments: 1 removed (older than 7 days)",
        "call records: 2 deleted (older than 30 days)",
        "recordings in call records: 1 removed (older than 5 days)",
        "console login attempts: 1 deleted (older than 10 days)",
    ]
    with database.transaction() as session:
        assert set(session.scalars(select(Call.call_sid))) == {
            "CA-new-started", "CA-new-unstarted", "CA-new-voicemail", "CA-old-voicemail"}
        kept = {"CA-old-voicemail": "recado",
                "CA-new-voicemail": "recado:https://api.example.com/new.mp3"}
        for record in (Call, CallStep):
            details = {sid: detail for sid, detail in session.execute(
                select(record.call_sid, record.outcome_detail)
                .where(record.outcome == "voicemail"))}
            assert details == kept, record
        assert set(session.scalars(select(CallStep.call_sid))) == {
            "CA-new-started", "CA-new-voicemail", "CA-old-voicemail"}
        for model in (LoginAttempt, PendingLogin, CallLogin, VoiceMessageSlot):
            assert set(session.scalars(select(model.call_sid))) == {"CA-new"}, model
        assert set(session.scalars(select(CallerFailure.caller))) == {"+55119new"}
        assert set(session.scalars(select(AdminLogin.username))) == {"new"}
        assert list(session.scalars(select(LineLoginFailures.failures))) == [2]
        recordings = {sid: url for sid, url in session.execute(
            select(TicketEvent.call_sid, TicketEvent.recording_url))}
        assert recordings == {"CA-old": None,
                              "CA-new": "https://api.example.com/ticket-new.mp3"}
        assert set(session.scalars(select(ReminderCall.call_sid))) == {"CA-new-reminder"}
        assert dict(session.execute(
            select(SurveyAnswer.call_sid, SurveyAnswer.comment_url)).all()) == {
            "CA-old-survey": None, "CA-new-survey": "https://api.example.com/survey-new.mp3"}
        assert dict(session.execute(
            select(OuvidoriaContact.call_sid, OuvidoriaContact.recording_url)).all()) == {
            "CA-old-ouvidoria": None,
            "CA-new-ouvidoria": "https://api.example.com/ouvidoria-new.mp3"}

    again = run(app, "data", "purge")
    assert again.exit_code == 0
    assert all(": 0 " in line for line in again.output.splitlines())


def test_a_rule_names_a_retention_setting_or_an_age() -> None:
    with pytest.raises(ValueError, match="retention setting or a fixed age"):
        Purge("both", lambda session, cutoff: 0, retention="calls", age=timedelta(hours=1))
    with pytest.raises(ValueError, match="unknown retention"):
        Purge("typo", lambda session, cutoff: 0, retention="call")


def dump(app: Flask) -> str:
    """Every row of every table, as text."""
    with app.extensions["database"].engine.connect() as connection:
        return "\n".join(f"{table.name}: {row}" for table in metadata.sorted_tables
                         for row in connection.execute(select(table).order_by(
                             *table.primary_key.columns)))


def counts(app: Flask) -> dict[str, int]:
    with app.extensions["database"].engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table))
                .scalar_one() for table in metadata.sorted_tables}


JOAO_NUMBER, JOAO_OTHER_NUMBER, MARIA_NUMBER = "+5511911110000", "+5511922220000", "+5511933330000"
RECORDING = "https://api.example.com/Recordings/RE0123.mp3"


def status(signed: SignedClient, sid: str, caller: str) -> None:
    response = signed.post("/voice/status", call_form(sid, CallStatus="completed",
                                                      CallDuration="60", From=caller))
    assert response.status_code == 204


def joao_and_maria_call(app: Flask, signed: SignedClient) -> None:
    """João logs in on one call, fails on another from a second number, keys his CPF on a
    third and hangs up; he left a recording on a ticket. Maria logs in too."""
    login(signed, JOAO_CPF, JOAO_PASSWORD, sid="CA-joao-1", caller=JOAO_NUMBER)
    login(signed, JOAO_CPF, "999999", sid="CA-joao-2", caller=JOAO_OTHER_NUMBER)
    doc = to_team_login(signed, sid="CA-joao-3", caller=JOAO_NUMBER)
    post(signed, doc.next_url(), JOAO_CPF, "CA-joao-3", JOAO_NUMBER)  # then hangs up
    login(signed, MARIA_CPF, MARIA_PASSWORD, sid="CA-maria-1", caller=MARIA_NUMBER)
    for sid, caller in (("CA-joao-1", JOAO_NUMBER), ("CA-joao-2", JOAO_OTHER_NUMBER),
                        ("CA-maria-1", MARIA_NUMBER)):
        status(signed, sid, caller)
    app.extensions["call_recorder"].flush()
    with app.extensions["database"].transaction() as session:
        joao = session.scalars(select(Contact.id).where(Contact.cpf == JOAO_CPF)).one()
        session.add(TicketEvent(ticket_id=ticket_id(session, "34567890"),
                                kind=EventKind.VOICE_MESSAGE, contact_id=joao,
                                call_sid="CA-joao-1", recording_url=RECORDING, at=NOW))
        session.add(CallLogin(call_sid="CA-joao-4", contact_id=joao, failures=0,
                              updated_at=NOW))  # a call still in progress
        # someone's failures on a call in progress: nobody's contact, not João's
        session.add(CallLogin(call_sid="CA-other", failures=2, updated_at=NOW))


def test_forget_erases_the_person_and_keeps_the_anonymous_counts(
        app: Flask, signed: SignedClient, demo_data: None) -> None:
    joao_and_maria_call(app, signed)
    with app.extensions["database"].transaction() as session:
        joao_hash = session.scalars(select(Contact.password_hash)
                                    .where(Contact.cpf == JOAO_CPF)).one()
    before = dump(app)
    for personal in (JOAO_CPF, JOAO_NUMBER, JOAO_OTHER_NUMBER, RECORDING, joao_hash):
        assert str(personal) in before  # the test looks where the data is
    counted = counts(app)

    result = run(app, "contacts", "forget", "123.456.789-09")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "***.***.***-09: erased"
    assert "contact (name, CPF, password hash): 1 deleted" in result.output

    after = dump(app)
    for personal in (JOAO_CPF, "João", JOAO_NUMBER, JOAO_OTHER_NUMBER, RECORDING,
                     str(joao_hash), "***.***.***-09"):
        assert personal not in after, personal
    for kept in (MARIA_CPF, "Maria Silva", MARIA_NUMBER, "***.***.***-25"):
        assert kept in after  # someone else's data is untouched
    assert counts(app) == {**counted, "contacts": counted["contacts"] - 1,
                           "call_logins": counted["call_logins"] - 1,
                           "pending_logins": counted["pending_logins"] - 1,
                           "caller_failures": counted["caller_failures"] - 1}
    with app.extensions["database"].transaction() as session:
        results = sorted(session.scalars(select(LoginAttempt.result)
                                         .where(LoginAttempt.caller == "erased")))
        assert results == ["bad_password", "ok"]  # still counted, no longer anyone's
        paths = session.execute(select(Call.path, Call.outcome, Call.from_number)
                                .where(Call.call_sid == "CA-joao-1")).one()
        assert paths[0].startswith("principal") and paths[1] == "transferred"
        assert paths[2] is None

    again = run(app, "contacts", "forget", JOAO_CPF)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == "***.***.***-09: nothing left to erase"
    assert dump(app) == after


@pytest.mark.parametrize(("cpf", "problem"), [
    ("12345678900", "invalid check digits"),
    ("1234567890", "must have 11 digits"),
    ("11111111111", "all digits equal"),
])
def test_forget_refuses_an_invalid_cpf_and_changes_nothing(
        app: Flask, demo_data: None, cpf: str, problem: str) -> None:
    before = dump(app)
    result = run(app, "contacts", "forget", cpf)
    assert result.exit_code == 1
    assert problem in result.output and "nothing was erased" in result.output
    assert cpf not in result.output
    assert dump(app) == before
