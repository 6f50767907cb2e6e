"""The provider's fallback URL and nginx's resumed retry: after a webhook failed the caller hears
a short apology and goes on where they were, nothing that writes is done twice, never silence."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from auth.models import LoginAttempt
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, Clock, SignedClient, call_form
from tests.database_faults import restart
from tests.test_voice_login import SID, post, to_team_login
from tests.twiml import Doc

APOLOGY = "Desculpe, tivemos um problema."
BASE = "http://localhost"


def fallback(signed: SignedClient, failed_url: str, digits: str | None = None,
             error_code: str = "11200", **extra: str) -> Doc:
    form = call_form(SID, ErrorCode=error_code, ErrorUrl=BASE + failed_url, **extra)
    if digits is not None:
        form["Digits"] = digits
    response = signed.post("/voice/fallback", form)
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def attempts(app: Flask) -> int:
    with app.extensions["database"].session() as session:
        return int(session.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


def test_a_lost_menu_answer_replays_the_same_prompt_after_an_apology(
    signed: SignedClient, demo_data: None
) -> None:
    submenu = post(signed, post(signed, "/voice").next_url(), "2")
    doc = fallback(signed, submenu.next_url(), "2")
    assert doc.spoken().startswith(APOLOGY)
    assert submenu.spoken() in doc.spoken()
    assert doc.gather.attrib["action"] == submenu.gather.attrib["action"]


def test_a_failed_incoming_call_starts_at_the_main_menu(
    signed: SignedClient, demo_data: None
) -> None:
    main = post(signed, "/voice")
    doc = fallback(signed, "/voice")
    assert doc.spoken() == f"{APOLOGY} {main.spoken()}"
    assert doc.gather.attrib["action"] == main.gather.attrib["action"]


def test_a_lost_password_answer_asks_for_the_login_again_without_a_second_check(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    cpf_prompt = to_team_login(signed)
    password_prompt = post(signed, cpf_prompt.next_url(), MARIA_CPF)
    before = attempts(app)
    doc = fallback(signed, password_prompt.next_url(), MARIA_PASSWORD)
    assert attempts(app) == before  # no bcrypt check, no failure counted
    assert doc.spoken().startswith(APOLOGY)
    assert doc.next_url().startswith("/voice/auth/login")


def test_a_login_that_went_through_goes_on_to_the_team(
    signed: SignedClient, demo_data: None
) -> None:
    password_prompt = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    post(signed, password_prompt.next_url(), MARIA_PASSWORD)  # its answer lost on the way
    doc = fallback(signed, password_prompt.next_url(), MARIA_PASSWORD)
    assert doc.spoken().startswith(APOLOGY)
    assert doc.dial_target() == "+5511900000001"


def test_nginx_resume_header_runs_nothing_twice(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    password_prompt = post(signed, to_team_login(signed).next_url(), MARIA_CPF)
    before = attempts(app)
    form = call_form(SID, Digits="000000")
    response = signed.post(password_prompt.next_url(), form,
                           environ_overrides={"HTTP_X_IVR_RESUME": "1"})
    assert response.status_code == 200
    doc = Doc.parse(response.data)
    assert attempts(app) == before
    assert doc.spoken().startswith(APOLOGY)
    assert doc.next_url().startswith("/voice/auth/login")


def test_the_resume_header_does_not_pass_the_signature_check(
    signed: SignedClient, demo_data: None
) -> None:
    response = signed.post("/voice", call_form(SID), signature="bad",
                           environ_overrides={"HTTP_X_IVR_RESUME": "1"})
    assert response.status_code == 403


def test_an_answered_transfer_whose_result_was_lost_ends_the_call(
    signed: SignedClient, demo_data: None
) -> None:
    doc = fallback(signed, "/voice/dialed?s=atendente.0.0..principal-atendente",
                   DialCallStatus="completed")
    assert doc.verbs == ["Hangup"]


def test_an_unanswered_transfer_goes_where_the_lost_answer_led(
    signed: SignedClient, demo_data: None
) -> None:
    url = "/voice/dialed?s=atendente.0.0..principal-atendente"
    direct = Doc.parse(signed.post(url, call_form(SID, DialCallStatus="busy")).data)
    doc = fallback(signed, url, DialCallStatus="busy")
    assert doc.raw == direct.raw


def test_a_lost_voice_message_puts_a_person_on_in_hours(
    signed: SignedClient, demo_data: None
) -> None:
    doc = fallback(signed, "/voice/tickets/message?s=consulta_chamado.0.0.12345678.principal",
                   RecordingUrl="https://api.example.com/rec/RE1")
    assert doc.spoken().startswith(APOLOGY)
    assert doc.dial_target()


def test_a_lost_voice_message_outside_hours_apologises_and_ends(
    signed: SignedClient, demo_data: None, clock: Clock
) -> None:
    clock.moment = clock.moment.replace(hour=22)
    doc = fallback(signed, "/voice/tickets/message?s=consulta_chamado.0.0.12345678.principal")
    assert doc.spoken().startswith(APOLOGY)
    assert doc.verbs[-1] == "Hangup"


def test_a_foreign_or_garbled_url_starts_at_the_main_menu(
    signed: SignedClient, demo_data: None
) -> None:
    main = post(signed, "/voice")
    for failed in ("/elsewhere?s=principal.0.0..principal", "/voice/step?s=%ff%00",
                   "/voice/step", "/voice/nowhere", ""):
        doc = fallback(signed, failed)
        assert doc.spoken() == f"{APOLOGY} {main.spoken()}", failed


def test_the_fallback_url_is_signed_like_the_rest(signed: SignedClient) -> None:
    form = call_form(SID, ErrorCode="11200", ErrorUrl=BASE + "/voice")
    assert signed.post("/voice/fallback", form, signature="wrong").status_code == 403


def test_a_step_that_meets_a_connection_lost_in_a_database_restart_asks_again(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    """Not a person for everyone who keyed during a restart: the pool is fresh again, so the
    caller hears the apology and the same prompt, and the next key goes through."""
    doc = post(signed, "/voice")
    for key in "22399":
        doc = post(signed, doc.next_url(), key)
    app.extensions["call_recorder"].flush()
    restart(app.extensions["database"])
    again = post(signed, doc.next_url(), "1")  # a node behind the login: asks the database
    assert again.spoken() == f"{APOLOGY} {doc.spoken()}"
    assert again.gather.attrib["action"] == doc.gather.attrib["action"]
    assert post(signed, again.next_url(), "1").next_url().startswith("/voice/auth/login")
