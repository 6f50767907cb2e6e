"""Login and ticket self-service through a real gunicorn, with signed requests (SQLite, or
PostgreSQL with TEST_DATABASE_URL). The walks are the same as the in-process tests'."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from auth.models import Contact
from tests.conftest import JOAO_CPF, JOAO_PASSWORD, MARIA_CPF, MARIA_PASSWORD
from tests.e2e import LiveServer, live_server
from tests.test_voice_login import login, to_team_login
from tests.test_voice_login import post as login_post
from tests.test_voice_tickets import hear_ticket, post
from tickets.enums import TicketStatus
from tickets.models import Ticket, TicketEvent


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e-calls")) as server:
        yield server


def sid(n: int) -> str:
    return f"CA{n:032d}"


def test_good_login_reaches_each_team(live: LiveServer) -> None:
    for n, (key, number) in enumerate([("1", "+5511900000001"), ("2", "+5511900000002"),
                                       ("3", "+5511900000003")]):
        doc = login_post(live.caller, "/voice", sid=sid(100 + n))
        for digit in "22399" + key:
            doc = login_post(live.caller, doc.next_url(), digit, sid(100 + n))
        doc = login_post(live.caller, doc.next_url(), sid=sid(100 + n))
        doc = login_post(live.caller, doc.next_url(), JOAO_CPF, sid(100 + n))
        doc = login_post(live.caller, doc.next_url(), JOAO_PASSWORD, sid(100 + n))
        assert doc.dial_target() == number


def test_invalid_cpf_and_unknown_cpf(live: LiveServer) -> None:
    doc = to_team_login(live.caller, sid=sid(200), caller="+5511933333333")
    doc = login_post(live.caller, doc.next_url(), "11111111111", sid(200), "+5511933333333")
    assert "não é válido" in doc.spoken()
    wrong = login(live.caller, JOAO_CPF, "999999", sid=sid(201), caller="+5511944444444")
    unknown = login(live.caller, "98765432100", "999999", sid=sid(202), caller="+5511955555555")
    assert "não conferem" in wrong.spoken()
    assert wrong.raw == unknown.raw


def test_three_wrong_passwords_end_the_call_politely(live: LiveServer) -> None:
    doc = to_team_login(live.caller, sid=sid(300), caller="+5511966666666")
    for _ in range(3):
        doc = login_post(live.caller, doc.next_url(), JOAO_CPF, sid(300), "+5511966666666")
        doc = login_post(live.caller, doc.next_url(), "000000", sid(300), "+5511966666666")
    assert "Esqueci minha senha" in doc.spoken()
    assert doc.verbs[-1] == "Hangup"


def test_direct_entry_before_login_and_each_status(live: LiveServer) -> None:
    doc = hear_ticket(live.caller, "12345678", sid=sid(400))
    assert "com solução proposta" in doc.spoken() and "1 2 3 4 5 6 7 8" in doc.spoken()
    doc = post(live.caller, doc.next_url(), "0", sid(400))  # back to the main menu
    doc = post(live.caller, doc.next_url(), "23456789", sid(400))  # logged in: straight to it
    assert "em atendimento" in doc.spoken()
    other = hear_ticket(live.caller, "34567890", sid=sid(401))  # João's company's ticket
    assert "Não encontramos" in other.spoken()
    own = hear_ticket(live.caller, "34567890", sid=sid(402), cpf=JOAO_CPF, password=JOAO_PASSWORD)
    assert "aberto" in own.spoken() and "NF-e" in own.spoken()


def test_specialist_escalation_falls_back_to_the_team_then_a_message(live: LiveServer) -> None:
    doc = post(live.caller, hear_ticket(live.caller, sid=sid(500)).next_url(), "1", sid(500))
    assert doc.dial_target() == "+5511999990001"
    doc = post(live.caller, doc.next_url(), sid=sid(500), DialCallStatus="no-answer")
    assert doc.dial_target() == "+5511900000001"
    doc = post(live.caller, doc.next_url(), sid=sid(500), DialCallStatus="failed")
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE500"
    doc = post(live.caller, doc.next_url(), sid=sid(500), RecordingUrl=url)
    assert "registrada no chamado" in doc.spoken()
    with live.database.transaction() as session:
        urls = session.scalars(select(TicketEvent.recording_url)
                               .where(TicketEvent.kind == "voice_message")).all()
        assert url in urls


def test_postpone_twice_then_reject_with_a_recording_then_accept_is_refused(
    live: LiveServer,
) -> None:
    doc = hear_ticket(live.caller, sid=sid(600))
    doc = post(live.caller, doc.next_url(), "3", sid(600))
    doc = post(live.caller, doc.next_url(), "1", sid(600))
    assert "prorrogado até" in doc.spoken()
    doc = post(live.caller, doc.next_url(), "3", sid(600))
    assert "já foi prorrogado uma vez" in doc.spoken()
    doc = post(live.caller, doc.next_url(), "4", sid(600))
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE600"
    doc = post(live.caller, doc.next_url(), sid=sid(600), RecordingUrl=url)
    doc = post(live.caller, doc.next_url(), "1", sid(600))
    assert "voltou para atendimento" in doc.spoken()
    doc = post(live.caller, doc.next_url(), "2", sid(600))
    assert "não tem solução registrada" in doc.spoken()
    with live.database.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        assert ticket.status == "in_progress"


def test_accept_closes_the_ticket(live: LiveServer) -> None:
    # The previous test sent 12345678 back to in_progress; propose a new solution to accept.
    from datetime import datetime

    with live.database.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        ticket.status = TicketStatus.SOLUTION_PROPOSED
        ticket.solution_at = datetime.fromisoformat("2026-11-30T09:00:00-03:00")
    doc = hear_ticket(live.caller, sid=sid(700))
    doc = post(live.caller, doc.next_url(), "2", sid(700))
    doc = post(live.caller, doc.next_url(), "1", sid(700))
    assert "solução foi aceita" in doc.spoken()


def test_locked_contact_is_refused_even_with_the_right_password(live: LiveServer) -> None:
    for call in range(2):
        doc = to_team_login(live.caller, sid=sid(800 + call), caller="+5511977777777")
        for _ in range(3 if call == 0 else 2):
            doc = login_post(live.caller, doc.next_url(), MARIA_CPF, sid(800 + call),
                             "+5511977777777")
            doc = login_post(live.caller, doc.next_url(), "000000", sid(800 + call),
                             "+5511977777777")
    doc = login(live.caller, MARIA_CPF, MARIA_PASSWORD, sid=sid(810), caller="+5511988888888")
    assert doc.first("Dial") is None and "não conferem" in doc.spoken()
    with live.database.transaction() as session:
        contact = session.scalars(select(Contact).where(Contact.cpf == MARIA_CPF)).one()
        assert contact.failed_attempts == 5 and contact.locked_until is not None


def test_bad_signature_is_refused(live: LiveServer) -> None:
    response = live.caller.client.post("/voice", {"CallSid": sid(900)}, signature="bad")
    assert response.status == 403
