"""The ouvidoria (docs/rules.md#ouvidoria): option 9 of the shipped menu, a login, an earlier
ticket of the caller's own company, then its line in hours or a recorded message outside them;
``ouvidoria list``. On SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from ouvidoria.models import OuvidoriaContact
from tests.caller import Caller
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, Clock
from tests.test_voice_tickets import login_through
from tests.test_voice_tickets import post as post_as
from tests.twiml import Doc

SID = "CA" + "0d" * 16
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE789"
SATURDAY = datetime.fromisoformat("2026-12-05T10:00:00-03:00")


def post(signed: Caller, url: str, digits: str | None = None, sid: str = SID,
         **extra: str) -> Doc:
    return post_as(signed, url, digits, sid, **extra)


def to_ouvidoria(signed: Caller, sid: str = SID) -> Doc:
    doc = post(signed, "/voice", sid=sid)
    assert "Para a ouvidoria, tecle 9" in doc.spoken()
    doc = post(signed, doc.next_url(), "9", sid)
    doc = login_through(signed, doc, MARIA_CPF, MARIA_PASSWORD, sid)
    assert "chamado" in doc.spoken() and "oito dígitos" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/ouvidoria/ticket")
    return doc


def stored(app: Flask) -> list[OuvidoriaContact]:
    with app.extensions["database"].transaction() as session:
        return list(session.scalars(select(OuvidoriaContact)))


def listing(app: Flask, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(args=["ouvidoria", "list", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def test_in_hours_an_earlier_ticket_puts_the_caller_through(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, to_ouvidoria(signed).next_url(), "23456789")
    assert doc.dial_target() == "+5511900000009"
    assert "ouvidoria" in doc.spoken()
    (contact,) = stored(app)
    assert contact.outcome == "transferred" and contact.ticket_id is not None
    assert listing(app) == ["2026-12-01 10:00  ***.***.***-25  23456789  transferred"]


def test_outside_hours_the_caller_leaves_a_message(
        signed: Caller, demo_data: None, app: Flask, clock: Clock) -> None:
    clock.moment = SATURDAY
    doc = post(signed, to_ouvidoria(signed).next_url(), "12345678")
    assert doc.first("Dial") is None and doc.first("Record") is not None
    assert "fora do horário" in doc.spoken()
    assert "Deixe sua mensagem para a ouvidoria" in doc.spoken()
    assert stored(app)[0].outcome == "no_message"
    doc = post(signed, doc.next_url(), RecordingUrl=RECORDING)
    assert "registrada pela ouvidoria" in doc.spoken()
    doc = post(signed, "/voice/ouvidoria/message?s=ouvidoria.0.0.12345678.ouvidoria",
               RecordingUrl=RECORDING + "X")  # a replay changes nothing
    (contact,) = stored(app)
    assert (contact.outcome, contact.recording_url) == ("message", RECORDING)
    assert listing(app) == ["2026-12-05 10:00  ***.***.***-25  12345678  message"]


def test_an_unanswered_ouvidoria_takes_a_message(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, to_ouvidoria(signed).next_url(), "12345678")
    doc = post(signed, doc.next_url(), DialCallStatus="no-answer")
    assert doc.first("Record") is not None and "não pode atender" in doc.spoken()
    assert stored(app)[0].outcome == "unanswered"
    post(signed, doc.next_url(), RecordingUrl=RECORDING)
    assert stored(app)[0].outcome == "message"


def test_another_companys_ticket_is_no_ticket_and_the_caller_hears_where_to_go(
        signed: Caller, demo_data: None, app: Flask) -> None:
    doc = post(signed, to_ouvidoria(signed).next_url(), "34567890")  # João's company
    assert "Não encontramos esse chamado" in doc.spoken()
    assert doc.first("Dial") is None and stored(app) == []
    doc = post(signed, doc.next_url(), "34567890")
    assert "suporte.totvs.com.br" in doc.spoken() and "ouvidoria atende quem" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")
    (contact,) = stored(app)
    assert (contact.outcome, contact.ticket_id) == ("no_ticket", None)


def test_a_missing_ticket_sounds_like_another_companys(
        signed: Caller, demo_data: None) -> None:
    other = post(signed, to_ouvidoria(signed).next_url(), "34567890")
    missing = post(signed, to_ouvidoria(signed, "CA" + "e" * 32).next_url(), "99999999",
                   sid="CA" + "e" * 32)
    assert other.raw == missing.raw


def test_silence_counts_as_no_ticket_and_zero_goes_back(
        signed: Caller, demo_data: None) -> None:
    doc = post(signed, to_ouvidoria(signed).next_url(), "")
    assert "Não encontramos esse chamado" in doc.spoken()
    doc = post(signed, doc.next_url(), "0")
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")


def test_without_a_login_the_ouvidoria_asks_for_one(signed: Caller, demo_data: None) -> None:
    doc = post(signed, "/voice/ouvidoria/ticket?s=ouvidoria.0.0..principal-ouvidoria",
               "12345678", sid="CA" + "f" * 32)
    assert doc.next_url().startswith("/voice/auth/login")


def test_list_takes_a_period(signed: Caller, demo_data: None, app: Flask,
                             clock: Clock) -> None:
    post(signed, to_ouvidoria(signed).next_url(), "23456789")
    clock.moment = SATURDAY
    other = "CA" + "a1" * 16
    post(signed, to_ouvidoria(signed, other).next_url(), "12345678", sid=other)
    assert len(listing(app)) == 2
    assert listing(app, "--from", "2026-12-02") == [
        "2026-12-05 10:00  ***.***.***-25  12345678  no_message"]
    assert listing(app, "--to", "2026-12-01") == [
        "2026-12-01 10:00  ***.***.***-25  23456789  transferred"]
    result = app.test_cli_runner().invoke(args=["ouvidoria", "list", "--from", "amanhã"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_saying_ouvidoria_at_the_main_menu_goes_there(signed: Caller, demo_data: None) -> None:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), SpeechResult="quero fazer uma reclamação",
               Confidence="0.9")
    assert doc.next_url().startswith("/voice/auth/login?s=ouvidoria.")
