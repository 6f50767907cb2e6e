"""A captured, correctly signed ticket request replayed (the provider's signature has no
timestamp): a ticket change and a voice message happen once, for the call that logged in and
the ticket it was offered, never one a URL names."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import SignedClient, call_form
from tests.test_voice_tickets import SID, hear_ticket, post
from tickets.models import Ticket, TicketEvent

RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE4242"


def events(app: Flask, kind: str) -> list[TicketEvent]:
    with app.extensions["database"].transaction() as session:
        return list(session.scalars(select(TicketEvent).where(TicketEvent.kind == kind)))


def to_the_message(signed: SignedClient) -> str:
    """Specialist and team unanswered: the Record's action URL for ticket 12345678."""
    doc = post(signed, hear_ticket(signed).next_url(), "1")
    doc = post(signed, doc.next_url(), DialCallStatus="no-answer")
    doc = post(signed, doc.next_url(), DialCallStatus="busy")
    assert doc.first("Record") is not None
    return doc.next_url()


def test_a_replayed_confirmation_changes_nothing_a_second_time(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "3")  # postpone
    confirm_url = doc.next_url()
    assert "v=" in confirm_url
    assert "prorrogado até" in post(signed, confirm_url, "1").spoken()
    replayed = post(signed, confirm_url, "1")
    assert "O chamado mudou desde a sua escolha. Nada foi alterado." in replayed.spoken()
    assert len(events(app, "postponed")) == 1


def test_a_confirmation_for_a_ticket_changed_meanwhile_changes_nothing(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, hear_ticket(signed).next_url(), "2")  # accept
    with app.extensions["database"].transaction() as session:  # the team moves it meanwhile
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        ticket.summary = "Rematrícula não gera boleto (em análise)"
    doc = post(signed, doc.next_url(), "1")
    assert "Nada foi alterado" in doc.spoken()
    assert events(app, "accepted") == []


def test_a_replayed_voice_message_is_attached_once(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    message_url = to_the_message(signed)
    signed.post("/voice/status", call_form(SID, CallStatus="completed", CallDuration="95"))
    assert "registrada no chamado" in post(signed, message_url, RecordingUrl=RECORDING).spoken()
    assert "Até logo" in post(signed, message_url, RecordingUrl=RECORDING).spoken()
    [event] = events(app, "voice_message")
    assert event.recording_url == RECORDING


def test_a_message_goes_to_the_offered_ticket_not_the_one_a_url_names(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    message_url = to_the_message(signed)
    # The same call's callback, its URL edited to name another company's ticket (and signed,
    # as a captured request can be with the right token).
    forged = message_url.replace("12345678", "34567890")
    assert forged != message_url
    post(signed, forged, RecordingUrl=RECORDING)
    with app.extensions["database"].transaction() as session:
        numbers = session.scalars(
            select(Ticket.number).join(TicketEvent).where(TicketEvent.kind == "voice_message"))
        assert list(numbers) == ["12345678"]


def test_a_message_from_a_call_never_offered_one_attaches_nothing(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    message_url = to_the_message(signed)
    other_call = "CA" + "9" * 32
    doc = post(signed, message_url, sid=other_call, RecordingUrl=RECORDING)
    assert "Até logo" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        assert session.scalar(select(func.count()).select_from(TicketEvent)) == 0
