"""Speech over HTTP: a CPF said digit by digit, a keypad-only password, a ticket number said,
and no spoken CPF in any log."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from sqlalchemy import func, select

from auth.models import LoginAttempt
from tests.caller import Caller
from tests.conftest import MARIA_PASSWORD, SignedClient, call_form
from tests.test_voice_login import to_team_login
from tests.twiml import Doc

SID = "CA" + "5" * 32
MARIA_SAID = "cinco dois nove, nove oito dois, dois quatro sete, dois cinco"
MARIA_IN_GROUPS = ("quinhentos e vinte e nove novecentos e oitenta e dois "
                   "duzentos e quarenta e sete vinte e cinco")


def post(signed: Caller, url: str, sid: str = SID, **extra: str) -> Doc:
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def login_attempts(app: Flask) -> int:
    with app.extensions["database"].transaction() as session:
        return session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one()


@pytest.mark.parametrize("said", [MARIA_SAID, MARIA_IN_GROUPS, "529.982.247-25"])
def test_a_spoken_cpf_and_a_keyed_password_reach_the_team(
    signed: SignedClient, demo_data: None, said: str
) -> None:
    doc = to_team_login(signed, sid=SID)
    cpf_gather = doc.gather.attrib
    assert (cpf_gather["input"], cpf_gather["language"]) == ("dtmf speech", "pt-BR")
    assert cpf_gather["speechTimeout"] == "3"  # pauses between groups do not end it
    assert "diga os números" in doc.spoken()
    doc = post(signed, doc.next_url(), SpeechResult=said, Confidence="0.71")
    password_gather = doc.gather.attrib
    assert "senha" in doc.spoken()
    assert password_gather["input"] == "dtmf"
    assert "speechTimeout" not in password_gather and "hints" not in password_gather
    doc = post(signed, doc.next_url(), Digits=MARIA_PASSWORD)
    assert "Obrigado, Maria." in doc.spoken()
    assert doc.dial_target() == "+5511900000001"


def test_a_spoken_password_is_never_taken(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    doc = to_team_login(signed, sid=SID)
    doc = post(signed, doc.next_url(), SpeechResult=MARIA_SAID)
    doc = post(signed, doc.next_url(), SpeechResult="quatro oito dois nove um três")
    assert "Não recebemos nenhum número" in doc.spoken()
    assert doc.next_url().startswith("/voice/auth/password")
    assert login_attempts(app) == 0


def test_words_that_are_not_a_cpf_are_asked_again_without_counting(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    doc = to_team_login(signed, sid=SID)
    doc = post(signed, doc.next_url(), SpeechResult="não sei o meu CPF agora")
    assert "Não entendemos os números" in doc.spoken()
    assert doc.next_url().startswith("/voice/auth/cpf")
    assert login_attempts(app) == 0


def test_a_ticket_number_said_is_heard(signed: SignedClient, demo_data: None) -> None:
    doc = post(signed, "/voice")
    doc = post(signed, doc.next_url(), Digits="1")  # consultar um chamado: login first
    doc = post(signed, doc.next_url())
    doc = post(signed, doc.next_url(), SpeechResult=MARIA_SAID)
    doc = post(signed, doc.next_url(), Digits=MARIA_PASSWORD)
    if doc.is_redirect_only:
        doc = post(signed, doc.next_url())
    assert doc.gather.attrib["input"] == "dtmf speech"
    doc = post(signed, doc.next_url(), SpeechResult="um dois três quatro cinco meia sete oito",
               Confidence="0.4")
    assert "1 2 3 4 5 6 7 8" in doc.spoken() and "com solução proposta" in doc.spoken()


def test_no_spoken_cpf_reaches_a_log(
    signed: SignedClient, demo_data: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    doc = to_team_login(signed, sid=SID)
    doc = post(signed, doc.next_url(), SpeechResult="cinco dois nove nove oito dois dois "
                                                    "quatro sete zero zero")  # invalid
    doc = post(signed, doc.next_url(), SpeechResult=MARIA_SAID)
    post(signed, doc.next_url(), Digits="000000")
    logged = caplog.text
    assert "***.***.***-25" in logged  # the login's own lines were captured, masked
    assert "cinco dois" not in logged
    for digits in ("52998224725", "52998224700", "529982"):
        assert digits not in logged


# -- the ticket menu, its confirmation and its offer also take words ----------------------------


def test_a_ticket_is_accepted_by_saying_so_and_confirming_with_sim(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    from tests.test_voice_tickets import hear_ticket
    from tickets.models import Ticket

    doc = hear_ticket(signed, sid=SID)
    action = doc.gather.attrib
    assert action["input"] == "dtmf speech" and "aceitar" in action["hints"].split(", ")
    doc = post(signed, doc.next_url(), SpeechResult="quero aceitar a solução", Confidence="0.9")
    assert "Você escolheu aceitar a solução" in doc.spoken()
    assert doc.gather.attrib["input"] == "dtmf speech"
    doc = post(signed, doc.next_url(), SpeechResult="Sim.", Confidence="0.95")
    assert "solução foi aceita" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        assert ticket.status == "closed" and ticket.closed_how == "accepted"


def test_ticket_menu_words_that_name_nothing_are_an_invalid_key(
    signed: SignedClient, demo_data: None
) -> None:
    from tests.test_voice_tickets import hear_ticket

    doc = hear_ticket(signed, sid=SID)
    refused = post(signed, doc.next_url(), SpeechResult="banana", Confidence="0.9")
    assert refused.spoken().startswith("Opção inválida.")
    rejecting = post(signed, refused.next_url(), SpeechResult="não aceito", Confidence="0.9")
    assert rejecting.first("Record") is not None  # "recusar": the reason is recorded first


def test_anything_but_a_confirmation_said_cancels(signed: SignedClient, demo_data: None) -> None:
    from tests.test_voice_tickets import hear_ticket

    doc = post(signed, hear_ticket(signed, sid=SID).next_url(), Digits="3")
    doc = post(signed, doc.next_url(), SpeechResult="não, deixa pra lá", Confidence="0.9")
    assert "Nada foi alterado." in doc.spoken()
