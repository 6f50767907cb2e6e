"""Ticket self-service over HTTP: direct entry, isolation, accept/postpone/reject, escalation."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from tests.caller import Caller
from tests.conftest import (
    JOAO_CPF,
    JOAO_PASSWORD,
    MARIA_CPF,
    MARIA_PASSWORD,
    Clock,
    SignedClient,
    call_form,
)
from tests.twiml import Doc
from tickets.models import Ticket, TicketEvent

SID = "CA" + "c" * 32


def post(signed: Caller, url: str, digits: str | None = None, sid: str = SID,
         **extra: str) -> Doc:
    if digits is not None:
        extra["Digits"] = digits
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    doc = Doc.parse(response.data)
    if doc.is_redirect_only and not doc.next_url().startswith("/voice/auth/login"):
        heard = doc.spoken()
        doc = post(signed, doc.next_url(), sid=sid)
        doc.heard_before = f"{heard} {doc.heard_before}".strip()
    return doc


def login_through(signed: Caller, doc: Doc, cpf: str, password: str, sid: str = SID) -> Doc:
    assert doc.next_url().startswith("/voice/auth/login"), doc.raw
    doc = post(signed, doc.next_url(), sid=sid)
    doc = post(signed, doc.next_url(), cpf, sid)
    return post(signed, doc.next_url(), password, sid)


def hear_ticket(signed: Caller, number: str = "12345678", sid: str = SID,
                cpf: str = MARIA_CPF, password: str = MARIA_PASSWORD) -> Doc:
    doc = post(signed, "/voice", sid=sid)
    doc = post(signed, doc.next_url(), number, sid)
    return login_through(signed, doc, cpf, password, sid)


def test_direct_entry_before_login_hears_the_ticket_without_keying_it_again(
    signed: SignedClient, demo_data: None
) -> None:
    doc = hear_ticket(signed)
    spoken = doc.spoken()
    assert "Obrigado, Maria." in spoken
    assert "1 2 3 4 5 6 7 8" in spoken  # digit by digit
    assert "Educacional" in spoken and "com solução proposta" in spoken
    assert "Ana" in spoken and "Souza" not in spoken  # first name only
    assert "5 de dezembro" in spoken  # deadline of a solution registered on 20 November
    assert doc.gather.attrib["action"].startswith("/voice/tickets/action?s=consulta_chamado.")


def test_direct_entry_after_login(signed: SignedClient, demo_data: None) -> None:
    doc = post(signed, "/voice")
    for key in "223991":
        doc = post(signed, doc.next_url(), key)
    login_through(signed, doc, MARIA_CPF, MARIA_PASSWORD)
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), "23456789")
    assert doc.first("Gather") is not None
    assert "em atendimento" in doc.spoken() and "Bruno" in doc.spoken()


def test_another_companys_ticket_sounds_like_a_missing_one(
    signed: SignedClient, demo_data: None
) -> None:
    other = hear_ticket(signed, "34567890", sid="CA" + "1" * 32)
    missing = hear_ticket(signed, "99999999", sid="CA" + "2" * 32)
    assert "Não encontramos" in other.spoken()
    assert other.raw == missing.raw


def test_three_numbers_not_found_go_back_to_the_main_menu(
    signed: SignedClient, demo_data: None
) -> None:
    doc = hear_ticket(signed, "99999999")
    for _ in range(2):
        doc = post(signed, doc.next_url(), "88888888")
    assert "Não encontramos" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal.")


def test_accept_needs_confirmation_then_closes(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "2")
    assert "Para confirmar, tecle 1" in doc.spoken()
    doc = post(signed, doc.next_url(), "1")
    assert "solução foi aceita" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        assert ticket.status == "closed" and ticket.closed_how == "accepted"


def test_postpone_once_then_refused_with_the_reason(
    signed: SignedClient, demo_data: None
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "3")
    doc = post(signed, doc.next_url(), "1")
    assert "prorrogado até 19 de janeiro" in doc.spoken()
    doc = post(signed, doc.next_url(), "3")
    assert "já foi prorrogado uma vez" in doc.spoken()


def test_past_the_deadline_the_ticket_is_closed_automatically(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = datetime.fromisoformat("2026-12-07T10:00:00-03:00")
    doc = hear_ticket(signed)
    assert "encerrado" in doc.spoken() and "automaticamente" in doc.spoken()
    doc = post(signed, doc.next_url(), "2")
    assert "Não foi possível concluir" in doc.spoken()


def test_reject_records_the_reason_on_the_event(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "4")
    assert doc.first("Record") is not None
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123"
    doc = post(signed, doc.next_url(), RecordingUrl=url)
    doc = post(signed, doc.next_url(), "1")
    assert "voltou para atendimento" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "rejected")).one()
        assert ticket.status == "in_progress"
        assert event.recording_url == url


def test_a_specialist_transfer_answered_in_capitals_is_answered(signed: SignedClient,
                                                               demo_data: None) -> None:
    """The ticket's transfer reads the provider's status as every other transfer does."""
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    assert doc.dial_target() == "+5511999990001"
    doc = post(signed, doc.next_url(), DialCallStatus=" Completed ")
    # The person hung up first: the survey about the specialist, not the team's line.
    assert doc.first("Dial") is None
    assert doc.next_url().startswith("/voice/survey/score")


def test_specialist_then_team_then_a_message_on_the_ticket(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    assert doc.dial_target() == "+5511999990001"
    doc = post(signed, doc.next_url(), DialCallStatus="no-answer")
    assert doc.dial_target() == "+5511900000001"  # the Educacional team
    doc = post(signed, doc.next_url(), DialCallStatus="busy")
    assert doc.first("Record") is not None
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE456"
    doc = post(signed, doc.next_url(), RecordingUrl=url)
    assert "registrada no chamado" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        event = session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "voice_message")).one()
        assert event.recording_url == url


def test_specialist_outside_hours_offers_a_message_and_does_not_dial(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = datetime.fromisoformat("2026-12-05T10:00:00-03:00")  # Saturday
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    assert doc.first("Dial") is None
    assert "Reabrimos segunda-feira às 7h" in doc.spoken()
    doc = post(signed, doc.next_url(), "1")
    assert doc.first("Record") is not None


def test_ticket_status_as_a_menu_step(signed: SignedClient, demo_data: None) -> None:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), "1")
    doc = login_through(signed, doc, JOAO_CPF, JOAO_PASSWORD)
    assert "oito dígitos" in doc.spoken()
    doc = post(signed, doc.next_url(), "34567890")
    assert "NF-e" in doc.spoken() and "aberto" in doc.spoken()


def test_in_plantao_the_on_duty_line_takes_the_specialists_call(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = datetime.fromisoformat("2026-12-01T12:30:00-03:00")
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    assert doc.dial_target() == "+5511900000090"


def test_a_closed_ticket_offers_no_specialist(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = datetime.fromisoformat("2026-12-07T10:00:00-03:00")  # past the deadline
    doc = hear_ticket(signed)
    assert "tecle 1" not in doc.spoken()
    doc = post(signed, doc.next_url(), "1")
    assert doc.first("Dial") is None and "novo chamado" in doc.spoken()


def test_silence_instead_of_a_reason_goes_back_to_the_ticket(
    signed: SignedClient, demo_data: None
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "4")
    record = doc.first("Record")
    assert record is not None
    redirect = doc.first("Redirect")
    assert redirect is not None and redirect.text is not None
    assert redirect.text.startswith("/voice/tickets/status?s=consulta_chamado.0.0.12345678.")
    assert doc.verbs[-1] == "Redirect"


def test_a_message_recorded_as_the_call_ends_is_still_attached(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    doc = post(signed, doc.next_url(), DialCallStatus="no-answer")
    doc = post(signed, doc.next_url(), DialCallStatus="no-answer")
    assert doc.first("Record") is not None
    signed.post("/voice/status", call_form(SID, CallStatus="completed", CallDuration="95"))
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE789"
    post(signed, doc.next_url(), RecordingUrl=url)
    with app.extensions["database"].transaction() as session:
        urls = session.scalars(select(TicketEvent.recording_url)).all()
        assert url in urls


def test_after_the_status_callback_the_ticket_asks_for_the_login_again(
    signed: SignedClient, demo_data: None
) -> None:
    """The call's end (``ivr.signals.call_ended``) ends its login: a replayed ticket step of the
    same call sends the caller to the login first."""
    doc = hear_ticket(signed)
    assert "1 2 3 4 5 6 7 8" in doc.spoken()
    again = post(signed, doc.next_url(), "*")
    assert "1 2 3 4 5 6 7 8" in again.spoken()
    response = signed.post("/voice/status", call_form(SID, CallStatus="completed",
                                                      CallDuration="60"))
    assert response.status_code == 204
    doc = post(signed, doc.next_url(), "*")
    assert doc.is_redirect_only and doc.next_url().startswith("/voice/auth/login"), doc.raw


def test_star_at_the_number_prompt_repeats_it(signed: SignedClient, demo_data: None) -> None:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), "1")
    doc = login_through(signed, doc, MARIA_CPF, MARIA_PASSWORD)
    for _ in range(3):
        doc = post(signed, doc.next_url(), "*")
        assert doc.gather.attrib["action"].startswith("/voice/tickets/number")
        assert "Não encontramos" not in doc.spoken()


def test_silences_and_wrong_keys_at_the_ticket_count_apart(
    signed: SignedClient, demo_data: None
) -> None:
    """Two silences and two wrong keys stay under both limits (3 each): still at the ticket.
    The third silence is what sends the caller back to the main menu."""
    doc = hear_ticket(signed)
    for digits in ("", "9", "", "8"):
        doc = post(signed, doc.next_url(), digits)
        assert doc.gather.attrib["action"].startswith("/voice/tickets/action?"), doc.raw
    assert "Opção inválida" in doc.spoken()
    doc = post(signed, doc.next_url(), "")
    assert doc.gather.attrib["action"].startswith("/voice/step?s=principal."), doc.raw
