"""``X-Twilio-Signature`` on every ``/voice`` request: the provider's algorithm, 403 and nothing
changed when it does not match, and the public URL restored behind a proxy."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select, text
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from app import create_app, shutdown
from auth.models import Contact
from tests.conftest import (
    AUTH_TOKEN,
    MARIA_CPF,
    Clock,
    SignedClient,
    call_form,
)
from tests.twiml import Doc

SID = "CA" + "5" * 32
TABLES = ("calls", "login_attempts", "pending_logins", "call_logins", "caller_failures")


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything a webhook could write, after the call recorder has written what it holds."""
    app.extensions["call_recorder"].flush()
    with app.extensions["database"].transaction() as session:
        counts: dict[str, Any] = {
            table: session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in TABLES
        }
        counts["calls_rows"] = session.execute(
            text("SELECT call_sid, path, steps, outcome, ended_at, final_status FROM calls "
                 "ORDER BY call_sid")).all()
        counts["contacts"] = session.execute(
            select(Contact.cpf, Contact.failed_attempts, Contact.locked_until)
            .order_by(Contact.cpf)).all()
    return counts


@pytest.fixture
def recorded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Events handed to the call recorder (a refused request must not hand over any)."""
    events: list[object] = []
    recorder = app.extensions["call_recorder"]
    original = recorder.record

    def spy(event: object) -> None:
        events.append(event)
        original(event)

    monkeypatch.setattr(recorder, "record", spy)
    return events


def post(app: Flask, path: str, form: dict[str, str], signature: str | None,
         **kwargs: object) -> TestResponse:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return app.test_client().post(path, data=urlencode(form),
                                  content_type="application/x-www-form-urlencoded",
                                  headers=headers, **kwargs)


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


def wait_for_calls(app: Flask, count: int) -> dict[str, Any]:
    """The recorder's thread may hold a step for a fraction of a second: poll up to 3 s."""
    deadline = time.monotonic() + 3
    while True:
        state = snapshot(app)
        if state["calls"] >= count or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def assert_refused(response: TestResponse) -> None:
    assert response.status_code == 403, response.data
    assert b"<Response" not in response.data
    assert b"Traceback" not in response.data


# -- the basics --------------------------------------------------------------------------------


STEP = "/voice/step?s=principal.0.0..principal"


def served_step(app: Flask) -> None:
    """A signed key press that moves the call (the main menu alone writes nothing)."""
    form = call_form(SID, Digits="7")
    assert post(app, STEP, form, sign("http://localhost" + STEP, form)).status_code == 200


def test_a_valid_signature_is_served(app: Flask, recorded: list[object]) -> None:
    form = call_form(SID)
    response = post(app, "/voice", form, sign("http://localhost/voice", form))
    assert response.status_code == 200
    assert Doc.parse(response.data).first("Gather") is not None
    served_step(app)
    assert recorded  # the call was noted
    assert wait_for_calls(app, 1)["calls"] == 1


def test_a_valid_signature_with_a_query_string_is_served(app: Flask) -> None:
    url = "/voice/step?s=principal.0.0..principal"
    form = call_form(SID, Digits="2")
    response = post(app, url, form, sign("http://localhost" + url, form))
    assert response.status_code == 200
    assert Doc.parse(response.data).gather.attrib["action"].startswith("/voice/step?s=suporte.")


@pytest.mark.parametrize("case", ["wrong-token", "tampered-body", "added-field", "dropped-field",
                                  "tampered-query", "added-query", "missing-header",
                                  "empty-header", "garbage-header", "other-path"])
@pytest.mark.parametrize("path", ["/voice", "/voice/step?s=principal.0.0..principal",
                                  "/voice/status"])
def test_a_bad_signature_is_refused_and_changes_nothing(
    app: Flask, recorded: list[object], case: str, path: str
) -> None:
    before = snapshot(app)
    form = call_form(SID, Digits="7", CallStatus="completed", CallDuration="30")
    url = "http://localhost" + path
    signature: str | None = sign(url, form)
    sent_form, sent_path = dict(form), path
    if case == "wrong-token":
        signature = sign(url, form, token="not-the-token-0123456789abcdef")
    elif case == "tampered-body":
        sent_form["Digits"] = "2"
    elif case == "added-field":
        sent_form["Extra"] = "1"
    elif case == "dropped-field":
        del sent_form["From"]
    elif case == "tampered-query":
        sent_path = path.split("?")[0] + "?s=suporte.0.0..principal-suporte"
    elif case == "added-query":
        sent_path = path + ("&" if "?" in path else "?") + "x=1"
    elif case == "missing-header":
        signature = None
    elif case == "empty-header":
        signature = ""
    elif case == "garbage-header":
        signature = "%%%not base64\x00"
    elif case == "other-path":
        sent_path = "/voice/dialed?s=principal.0.0..principal"
    response = post(app, sent_path, sent_form, signature)
    assert_refused(response)
    assert recorded == []
    assert snapshot(app) == before


def test_a_refused_status_callback_does_not_end_the_call(app: Flask) -> None:
    served_step(app)
    before = wait_for_calls(app, 1)
    assert before["calls_rows"][0].ended_at is None
    status = call_form(SID, CallStatus="completed", CallDuration="30")
    response = post(app, "/voice/status", status,
                    sign("http://localhost/voice/status", status, token="wrong-token"))
    assert_refused(response)
    time.sleep(0.3)
    assert snapshot(app) == before


def test_a_refused_login_step_records_no_attempt(app: Flask, demo_data: None) -> None:
    before = snapshot(app)
    for path, digits in (("/voice/auth/cpf?s=educacional.0.0..principal", MARIA_CPF),
                         ("/voice/auth/cpf?s=educacional.0.0..principal", "11111111111"),
                         ("/voice/auth/password?s=educacional.0.0..principal", "000000")):
        form = call_form(SID, Digits=digits)
        response = post(app, path, form, sign("http://localhost" + path, form, "wrong"))
        assert_refused(response)
    assert snapshot(app) == before


def test_a_chunked_body_without_a_length_is_read(app: Flask) -> None:
    """A chunked body (no length) is read and judged like any other. gunicorn removes the
    chunking and says so (``wsgi.input_terminated``), as the environ here does."""
    form = call_form(SID, Digits="2")
    url = "/voice/step?s=principal.0.0..principal"
    body = urlencode(form).encode()
    response = app.test_client().post(
        url, input_stream=io.BytesIO(body), environ_overrides={"wsgi.input_terminated": True},
        headers={"X-Twilio-Signature": sign("http://localhost" + url, form),
                 "Content-Type": "application/x-www-form-urlencoded",
                 "Transfer-Encoding": "chunked"})
    assert response.status_code == 200
    assert Doc.parse(response.data).gather.attrib["action"].startswith("/voice/step?s=suporte.")


@pytest.mark.parametrize("length", ["70000", "12abc", "-5", "\u00b2"])
def test_a_body_of_no_webhook_size_is_refused(
    app: Flask, recorded: list[object], length: str
) -> None:
    """Longer than any webhook, or a length that is not a number: nothing is parsed, so the
    signature cannot match."""
    form = call_form(SID, Padding="x" * 70000 if length == "70000" else "")
    url = "http://localhost/voice"
    body = urlencode(form).encode()
    response = app.test_client().post(
        "/voice", input_stream=io.BytesIO(body),
        headers={"X-Twilio-Signature": sign(url, form),
                 "Content-Type": "application/x-www-form-urlencoded"},
        environ_overrides={"CONTENT_LENGTH": length})
    assert_refused(response)
    assert recorded == []


def test_the_call_state_is_read_from_the_query_among_other_fields(app: Flask) -> None:
    url = "/voice/step?x=%41&s=suporte.0.0..principal-suporte&y"
    form = call_form(SID, Digits="2")
    response = post(app, url, form, sign("http://localhost" + url, form))
    assert response.status_code == 200
    # Key 2 at "suporte" (not at the main menu) leads one level further down.
    assert not Doc.parse(response.data).gather.attrib["action"].startswith(
        "/voice/step?s=suporte.")


def test_a_signature_is_bound_to_the_form_values_not_their_order(app: Flask) -> None:
    form = call_form(SID)
    signature = sign("http://localhost/voice", form)
    reordered = dict(reversed(list(form.items())))
    assert post(app, "/voice", reordered, signature).status_code == 200


def test_without_a_token_everything_is_refused(
    database_url: str, menus_file: Path, clock: Clock
) -> None:
    app = create_app({"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": None,
                      "MENUS_FILE": menus_file, "CLOCK": clock, "TESTING": True})
    try:
        form = call_form(SID)
        assert_refused(post(app, "/voice", form, sign("http://localhost/voice", form)))
    finally:
        shutdown(app)


# -- behind a proxy ----------------------------------------------------------------------------

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(database_url: str, menus_file: Path, clock: Clock) -> Iterator[AppFactory]:
    made: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        application = create_app({
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "MENUS_FILE": menus_file,
            "BCRYPT_ROUNDS": 4,
            "MENU_RELOAD_SECONDS": 0.0,
            "CLOCK": clock,
            "TESTING": True,
            **overrides,
        })
        made.append(application)
        return application

    yield factory
    for application in made:
        shutdown(application)


def test_public_base_url_is_the_url_that_validates(make_app: AppFactory) -> None:
    app = make_app(PUBLIC_BASE_URL="https://ivr.example.com")
    form = call_form(SID)
    public = post(app, "/voice", form, sign("https://ivr.example.com/voice", form))
    assert public.status_code == 200
    assert Doc.parse(public.data).first("Gather") is not None
    # What the test client sees (http://localhost) is not what the provider signed.
    assert_refused(post(app, "/voice", form, sign("http://localhost/voice", form)))
    path = "/voice/step?s=principal.0.0..principal"
    keyed = call_form(SID, Digits="7")
    step = post(app, path, keyed, sign("https://ivr.example.com" + path, keyed))
    assert step.status_code == 200
    assert Doc.parse(step.data).dial_target() == "+5511900000007"


def test_public_base_url_with_a_path_prefix(make_app: AppFactory) -> None:
    app = make_app(PUBLIC_BASE_URL="https://gw.example.com/ivr")
    form = call_form(SID)
    response = post(app, "/voice", form, sign("https://gw.example.com/ivr/voice", form))
    assert response.status_code == 200


def test_proxy_headers_restore_the_public_scheme(make_app: AppFactory) -> None:
    app = make_app(PROXY_HOPS=1)
    form = call_form(SID)
    signature = sign("https://ivr.example.com/voice", form)
    behind_proxy = {"Host": "ivr.example.com", "X-Forwarded-Proto": "https",
                    "X-Forwarded-For": "203.0.113.9"}
    client = app.test_client()
    response = client.post("/voice", data=urlencode(form),
                           content_type="application/x-www-form-urlencoded",
                           headers={"X-Twilio-Signature": signature, **behind_proxy})
    assert response.status_code == 200, response.data
    assert Doc.parse(response.data).first("Gather") is not None
    # Without the proxy's headers the same request does not match what was signed.
    assert_refused(post(app, "/voice", form, signature))


def test_a_forwarded_host_is_not_taken_from_a_client(make_app: AppFactory) -> None:
    """A webhook the provider signed for another app of the same account (same token), sent
    here with that app's name as X-Forwarded-Host: refused, the host is not the header's."""
    app = make_app(PROXY_HOPS=1)
    form = call_form(SID)
    signature = sign("https://other-app.example.com/voice", form)
    forged = app.test_client().post(
        "/voice", data=urlencode(form), content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature, "Host": "ivr.example.com",
                 "X-Forwarded-Proto": "https", "X-Forwarded-Host": "other-app.example.com"})
    assert_refused(forged)


def test_proxy_headers_are_ignored_without_proxy_hops(make_app: AppFactory) -> None:
    app = make_app()
    form = call_form(SID)
    response = app.test_client().post(
        "/voice", data=urlencode(form), content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign("https://ivr.example.com/voice", form),
                 "X-Forwarded-Proto": "https", "X-Forwarded-Host": "ivr.example.com"})
    assert_refused(response)


def test_signed_client_base_matches_the_default_test_url(app: Flask) -> None:
    # The shared fixture signs for http://localhost: the baseline the proxy tests depart from.
    response = SignedClient(app.test_client()).post("/voice", call_form(SID))
    assert response.status_code == 200


# -- turning validation off --------------------------------------------------------------------


def test_turning_validation_off_logs_a_warning_at_start(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    app = make_app(VALIDATE_SIGNATURES=False)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING
                and "VALIDATION IS OFF" in r.getMessage().upper()]
    assert len(warnings) == 1
    form = call_form(SID)
    assert post(app, "/voice", form, None).status_code == 200


def test_validation_is_on_by_default_without_a_warning(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    app = make_app()
    assert not [r for r in caplog.records if "VALIDATION" in r.getMessage().upper()]
    assert_refused(post(app, "/voice", call_form(SID), None))


def test_validation_can_be_turned_off_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str, menus_file: Path,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURES", "false")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("MENUS_FILE", str(menus_file))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    app = create_app()
    try:
        assert app.config["VALIDATE_SIGNATURES"] is False
        assert any("VALIDATION IS OFF" in r.getMessage().upper() for r in caplog.records)
        assert post(app, "/voice", call_form(SID), None).status_code == 200
    finally:
        shutdown(app)


def test_row_counts_see_what_a_served_request_writes(app: Flask) -> None:
    # The "nothing changed" checks above are only worth something if a served request shows up.
    before = snapshot(app)
    served_step(app)
    after = wait_for_calls(app, before["calls"] + 1)
    assert after != before


# -- a captured request reshaped (the signature joins URL, names and values unseparated) ----


@pytest.mark.parametrize(("cut", "moved"), [
    # The tail of the URL moved into a field without a name: sorted first, signed the same.
    ("/voice/step?s=suporte.2.0..principal-suporte", ("", "&q=1")),
    # ...or into a name that sorts before every field the provider sends.
    ("/voice/step?s=suporte", (".2.0..principal-suporte&q=1", "")),
])
def test_a_captured_request_reshaped_to_sign_the_same_is_refused(
    app: Flask, recorded: list[object], cut: str, moved: tuple[str, str]
) -> None:
    captured_path = "/voice/step?s=suporte.2.0..principal-suporte&q=1"
    form = call_form(SID, Digits="9")
    signature = sign("http://localhost" + captured_path, form)
    reshaped = {**form, moved[0]: moved[1]}
    # The attack is real: the library computes the same signature for the reshaped request.
    assert sign("http://localhost" + cut, reshaped) == signature
    before = snapshot(app)
    assert_refused(post(app, cut, reshaped, signature))
    assert recorded == []
    assert snapshot(app) == before


def test_a_signed_form_with_a_repeated_field_is_refused(app: Flask) -> None:
    pairs = [*call_form(SID).items(), ("Digits", "7"), ("Digits", "2")]
    url = "/voice/step?s=principal.0.0..principal"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://localhost" + url, MultiDict(pairs))
    response = app.test_client().post(url, data=urlencode(pairs),
                                      content_type="application/x-www-form-urlencoded",
                                      headers={"X-Twilio-Signature": signature})
    assert_refused(response)
