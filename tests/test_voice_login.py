"""Phone login over HTTP: CPF then '#', password then '#', then on to where the caller was going."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import bcrypt
import pytest
from flask import Flask
from sqlalchemy import create_engine, func, make_url, select, text

from auth.models import CallerFailure, CallLogin, Contact, LoginAttempt
from auth.pending import PendingLogin
from tests.caller import Caller
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, Clock, SignedClient, call_form
from tests.twiml import Doc

SID = "CA" + "b" * 32


def post(signed: Caller, url: str, digits: str | None = None, sid: str = SID,
         caller: str = "+5511987654321") -> Doc:
    extra = {"From": caller, "Caller": caller}
    if digits is not None:
        extra["Digits"] = digits
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def to_team_login(signed: Caller, sid: str = SID, caller: str = "+5511987654321") -> Doc:
    doc = post(signed, "/voice", sid=sid, caller=caller)
    for key in "223991":
        doc = post(signed, doc.next_url(), key, sid, caller)
    assert doc.next_url().startswith("/voice/auth/login")
    return post(signed, doc.next_url(), sid=sid, caller=caller)


def login(signed: Caller, cpf: str, password: str, sid: str = SID,
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


def test_a_cpf_pending_when_the_call_ends_goes_with_it(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    assert login_rows(app)[3] == 1
    signed.post("/voice/status", call_form(SID, CallStatus="completed", CallDuration="42"))
    assert login_rows(app)[3] == 0
    doc = post(signed, doc.next_url(), MARIA_PASSWORD)  # a replayed password step
    assert "digite o seu CPF" in doc.spoken() and "Obrigado" not in doc.spoken()


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


# --- '*' repeats the prompt ----------------------------------------------------------------------


def login_rows(app: Flask) -> tuple[int, int, int, int]:
    """Audit rows, the calls' and the numbers' failures, pending CPFs."""
    with app.extensions["database"].session() as session:
        return (
            session.scalar(select(func.count()).select_from(LoginAttempt)) or 0,
            session.scalar(select(func.coalesce(func.sum(CallLogin.failures), 0))) or 0,
            session.scalar(select(func.coalesce(func.sum(CallerFailure.failures), 0))) or 0,
            session.scalar(select(func.count()).select_from(PendingLogin)) or 0,
        )


def test_star_at_the_cpf_prompt_repeats_it_without_a_failure(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    first = to_team_login(signed)
    again = post(signed, first.next_url(), "*")
    assert again.spoken() == first.spoken()
    assert again.next_url().startswith("/voice/auth/cpf")
    assert login_rows(app) == (0, 0, 0, 0)
    doc = post(signed, again.next_url(), MARIA_CPF)
    doc = post(signed, doc.next_url(), MARIA_PASSWORD)
    assert "Obrigado, Maria." in doc.spoken()


def test_star_at_the_password_prompt_repeats_it_and_keeps_the_cpf(
    signed: SignedClient, demo_data: None, app: Flask
) -> None:
    doc = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    again = post(signed, doc.next_url(), "*")
    assert again.spoken() == doc.spoken()
    assert again.next_url().startswith("/voice/auth/password")
    assert login_rows(app) == (0, 0, 0, 1)
    doc = post(signed, again.next_url(), MARIA_PASSWORD)
    assert "Obrigado, Maria." in doc.spoken()


@pytest.mark.parametrize("step", ["cpf", "password"])
def test_other_keys_with_a_star_are_still_a_failure(
    signed: SignedClient, demo_data: None, app: Flask, step: str
) -> None:
    doc = to_team_login(signed)
    if step == "password":
        doc = post(signed, doc.next_url(), MARIA_CPF)
    doc = post(signed, doc.next_url(), "48*913")
    assert "não" in doc.spoken() and doc.next_url().startswith("/voice/auth/cpf")
    assert login_rows(app)[:3] == (1, 1, 1)


# --- the CPF waits 10 minutes at most ------------------------------------------------------------


def test_password_keyed_after_ten_minutes_starts_the_login_over(
    signed: SignedClient, demo_data: None, app: Flask, clock: Clock
) -> None:
    doc = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    clock.moment += timedelta(minutes=10, seconds=1)
    doc = post(signed, doc.next_url(), MARIA_PASSWORD)
    assert "digite o seu CPF" in doc.spoken() and "Obrigado" not in doc.spoken()
    assert login_rows(app) == (0, 0, 0, 0)  # no try counted, and the stale CPF is gone


# --- no write lock while bcrypt runs -------------------------------------------------------------


def start_another_writer(url: str) -> None:
    """Opens a write transaction on a separate connection, failing at once if it would wait.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's one write lock. PostgreSQL has row locks:
    lock the pending CPF's row, which the password step would otherwise have deleted already.
    """
    if url.startswith("sqlite"):
        writer = sqlite3.connect(make_url(url).database or "", timeout=0.1, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")  # "database is locked" if a writer holds it
            writer.execute("ROLLBACK")
        finally:
            writer.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            locked = connection.execute(text(
                "SELECT call_sid FROM pending_logins WHERE call_sid = :sid FOR UPDATE NOWAIT"
            ), {"sid": SID}).all()
            assert locked == [(SID,)]
            connection.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("password", [MARIA_PASSWORD, "111111"])
def test_nothing_is_written_while_the_password_is_checked(
    signed: SignedClient, demo_data: None, app: Flask, monkeypatch: pytest.MonkeyPatch,
    password: str
) -> None:
    doc = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    checking, carry_on = threading.Event(), threading.Event()
    real_checkpw = bcrypt.checkpw

    def slow_checkpw(candidate: bytes, hashed: bytes) -> bool:
        checking.set()
        assert carry_on.wait(timeout=30)
        return real_checkpw(candidate, hashed)

    monkeypatch.setattr(bcrypt, "checkpw", slow_checkpw)
    answers: list[Doc] = []
    worker = threading.Thread(target=lambda: answers.append(post(signed, doc.next_url(), password)))
    worker.start()
    try:
        assert checking.wait(timeout=30), "the password step never reached bcrypt"
        start_another_writer(app.extensions["database"].url)
    finally:
        carry_on.set()
        worker.join(timeout=30)

    assert len(answers) == 1
    spoken = answers[0].spoken()
    assert ("Obrigado, Maria." in spoken) is (password == MARIA_PASSWORD)
    # and the writes did happen, after the check: the CPF is used up, the try recorded
    assert login_rows(app)[0] == 1 and login_rows(app)[3] == 0


# --- the delay after failures cannot be keyed through --------------------------------------------


def assert_pause_before_gather(doc: Doc, seconds: int) -> None:
    assert doc.verbs[:2] == ["Pause", "Gather"], doc.raw
    assert doc.root[0].attrib["length"] == str(seconds)
    assert not list(doc.gather.iter("Pause"))


def test_the_delay_is_played_before_the_gather(signed: SignedClient, demo_data: None) -> None:
    doc = to_team_login(signed)
    doc = post(signed, doc.next_url(), MARIA_CPF)
    doc = post(signed, doc.next_url(), "111111")
    assert "Pause" not in doc.raw  # the number's first failure: no delay
    doc = post(signed, doc.next_url(), MARIA_CPF)
    doc = post(signed, doc.next_url(), "111111")
    assert "não conferem" in doc.spoken()
    assert_pause_before_gather(doc, 2)
    doc = post(signed, to_team_login(signed, sid="CA" + "c" * 32).next_url(), "52998224700",
               sid="CA" + "c" * 32)
    assert "não é válido" in doc.spoken()
    assert_pause_before_gather(doc, 4)
