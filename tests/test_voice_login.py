"""Phone login over HTTP: CPF then '#', password then '#', then on to where the caller was going."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from auth.models import Contact, LoginAttempt
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, SignedClient, call_form
from tests.twiml import Doc

SID = "CA" + "b" * 32


def post(signed: SignedClient, url: str, digits: str | None = None, sid: str = SID,
         caller: str = "+5511987654321") -> Doc:
    extra = {"From": caller, "Caller": caller}
    if digits is not None:
        extra["Digits"] = digits
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def to_team_login(signed: SignedClient, sid: str = SID, caller: str = "+5511987654321") -> Doc:
    doc = post(signed, "/voice", sid=sid, caller=caller)
    for key in "223991":
        doc = post(signed, doc.next_url(), key, sid, caller)
    assert doc.next_url().startswith("/voice/auth/login")
    return post(signed, doc.next_url(), sid=sid, caller=caller)


def login(signed: SignedClient, cpf: str, password: str, sid: str = SID,
          caller: str = "+5511987654321") -> Doc:
    doc = to_team_login(signed, sid, caller)
    assert "digite o seu CPF" in doc.spoken()
    doc = post(signed, doc.next_url(), cpf + "", sid, caller)
    assert "senha" in doc.spoken()
    return post(signed, doc.next_url(), password, sid, caller)


def test_good_login_goes_straight_on_to_the_team(signed: SignedClient, demo_data: None) -> None:
    doc = login(signed, MARIA_CPF, MARIA_PASSWORD)
    assert "Obrigado, Maria." in doc.spoken()
    assert doc.dial_target() == "+5511900000001"


def test_cpf_prompt_ends_on_hash_without_a_digit_count(
    signed: SignedClient, demo_data: None
) -> None:
    gather = to_team_login(signed).gather
    assert gather.attrib["finishOnKey"] == "#"
    assert "numDigits" not in gather.attrib


def test_invalid_cpf_is_refused_before_the_password(signed: SignedClient, demo_data: None) -> None:
    doc = to_team_login(signed)
    doc = post(signed, doc.next_url(), "52998224700")
    assert "não é válido" in doc.spoken()
    assert doc.gather.attrib["action"].startswith("/voice/auth/cpf")


def test_unknown_cpf_sounds_exactly_like_a_wrong_password(
    signed: SignedClient, demo_data: None
) -> None:
    wrong = login(signed, MARIA_CPF, "000000", sid="CA" + "1" * 32, caller="+5511911111111")
    unknown = login(signed, "98765432100", "000000", sid="CA" + "2" * 32, caller="+5511922222222")
    assert wrong.raw == unknown.raw


def test_three_failures_point_to_option_7_and_the_portal_and_hang_up(
    signed: SignedClient, demo_data: None
) -> None:
    doc = to_team_login(signed)
    for attempt in range(3):
        doc = post(signed, doc.next_url(), MARIA_CPF)
        doc = post(signed, doc.next_url(), "111111")
        if attempt < 2:
            assert "não conferem" in doc.spoken()
    spoken = doc.spoken()
    assert "Esqueci minha senha" in spoken and "tecle 7" in spoken
    assert doc.verbs[-1] == "Hangup"


def test_locked_contact_is_refused_with_the_right_password(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    for call in range(2):
        sid = f"CA{call:032d}"
        doc = to_team_login(signed, sid=sid)
        for _ in range(3 if call == 0 else 2):
            doc = post(signed, doc.next_url(), MARIA_CPF, sid)
            doc = post(signed, doc.next_url(), "111111", sid)
    doc = login(signed, MARIA_CPF, MARIA_PASSWORD, sid="CA" + "9" * 32)
    assert doc.first("Dial") is None
    assert "não conferem" in doc.spoken()
    with app.extensions["database"].transaction() as session:
        contact = session.scalars(select(Contact).where(Contact.cpf == MARIA_CPF)).one()
        assert contact.failed_attempts == 5 and contact.locked_until is not None


def test_silence_is_asked_again_then_let_go(signed: SignedClient, demo_data: None) -> None:
    doc = to_team_login(signed)
    doc = post(signed, doc.next_url(), None)
    assert "Não recebemos nenhum número" in doc.spoken()
    doc = post(signed, doc.next_url(), None)
    assert doc.verbs[-1] == "Hangup"


def test_login_lasts_for_the_call_only(signed: SignedClient, demo_data: None) -> None:
    login(signed, MARIA_CPF, MARIA_PASSWORD)
    # Same call, another team: no second login.
    doc = post(signed, "/voice")
    for key in "223993":
        doc = post(signed, doc.next_url(), key)
    assert doc.dial_target() == "+5511900000003"
    signed.post("/voice/status", call_form(SID, CallStatus="completed", CallDuration="42"))
    doc = post(signed, "/voice")
    for key in "223993":
        doc = post(signed, doc.next_url(), key)
    assert doc.next_url().startswith("/voice/auth/login")


def test_no_cpf_or_password_in_logs_or_urls(
    signed: SignedClient, demo_data: None, app: Flask, caplog: object
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)  # type: ignore[attr-defined]
    doc = to_team_login(signed)
    doc = post(signed, doc.next_url(), MARIA_CPF)
    assert MARIA_CPF not in doc.raw
    post(signed, doc.next_url(), "111111")
    text = caplog.text  # type: ignore[attr-defined]
    assert MARIA_CPF not in text and "111111" not in text
    assert "***.***.***-25" in text
    with app.extensions["database"].transaction() as session:
        masked = session.scalars(select(LoginAttempt.masked_cpf)).all()
        assert masked and all(MARIA_CPF not in m for m in masked)
