"""Whatever a request carries, every ``/voice`` webhook answers valid TwiML (or an empty 204 from
the status callback): never a 5xx, never a traceback, never silence. Requests that are not signed
by the provider get 403 and change nothing.

The routes come from the app's URL map, so webhooks added later are fuzzed too.
"""

from __future__ import annotations

import string
import time
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from auth.models import Contact
from ivr.state import CallState
from tests.conftest import AUTH_TOKEN, JOAO_CPF, MARIA_CPF, MARIA_PASSWORD, Clock, call_form
from tests.twiml import Doc

FUZZ = settings(max_examples=500, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ_SMALL = settings(FUZZ, max_examples=200)

CORE_ROUTES = {"/voice", "/voice/step", "/voice/dialed", "/voice/recorded",
               "/voice/status", "/voice/auth/login", "/voice/auth/cpf", "/voice/auth/password"}
TABLES = ("calls", "login_attempts", "pending_logins", "call_logins", "caller_failures")
END_VERBS = {"Redirect", "Hangup", "Dial"}
TWIML_VERBS = {"Say", "Play", "Pause", "Gather", "Dial", "Record", "Redirect", "Hangup"}

MOMENTS = [datetime.fromisoformat(m) for m in (
    "2026-12-01T10:00:00-03:00",  # open
    "2026-12-01T07:30:00-03:00",  # plantão
    "2026-12-05T10:00:00-03:00",  # Saturday
    "2026-12-25T10:00:00-03:00",  # national holiday
    "2026-07-09T10:00:00-03:00",  # state holiday, outside plantão
)]
NODES = ["principal", "suporte", "linha_rm", "educacao", "ofertas", "oferta_p", "cadastro",
         "educacional", "gestao_financeira", "nfe", "atendente", "consulta_chamado",
         "fora_do_horario", "recado", "no_such_node"]


def voice_routes(app: Flask) -> list[str]:
    """Every POST URL under /voice, with sample values for any URL arguments."""
    adapter = app.url_map.bind("localhost")
    paths = []
    rule: Rule
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/voice") or "POST" not in (rule.methods or set()):
            continue
        values = {name: "1" for name in rule.arguments}
        try:
            paths.append(adapter.build(rule.endpoint, values, method="POST"))
        except Exception:
            paths.append(adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, 1),
                                       method="POST"))
    assert CORE_ROUTES <= set(paths), paths
    return sorted(paths)


# -- strategies --------------------------------------------------------------------------------

KNOWN_KEYS = ["CallSid", "Digits", "From", "To", "Caller", "Called", "CallStatus",
              "CallDuration", "DialCallStatus", "DialCallDuration", "RecordingUrl",
              "RecordingDuration", "AccountSid", "Direction", "SpeechResult", "Confidence",
              "q", "s"]
SIDS = ["CA" + c * 32 for c in "0123"]
INTERESTING = ["", " ", "#", "*", "0", "1", "2", "7", "9", "12345678", "87654321", "1234567",
               MARIA_CPF, JOAO_CPF, MARIA_PASSWORD, "000000", "529.982.247-25",
               "completed", "busy", "no-answer", "failed", "canceled", "in-progress", "ringing",
               "answered", "-1", "1e9", "0x10", "²", "٣", "１２", "\x00", "\u202e", "🙂",
               "<Say>oi</Say>", "]]>", "&amp;", "%00", "Robert'); DROP TABLE calls;--",
               "+5511987654321", "sip:alice@example.com", "https://example.com/r.mp3",
               "9" * 40, "99999999999999999999",
               # Speech: transcriptions and the provider's confidence, well formed or not.
               "financeiro", "Eu quero falar com o financeiro.", "cinco dois nove",
               "um dois três quatro cinco meia sete oito", "repetir", "menu principal",
               "quinhentos e vinte e nove", "0.93", "0.2", "1", "nan", "inf", "-0.5", "1e999"]

keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=20))
values = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=40),
    st.from_regex(r"[0-9#*]{0,24}", fullmatch=True),
    st.integers(min_value=1, max_value=12_000).map(lambda n: "7" * n),  # up to 12,000 digits
)


@st.composite
def form_bodies(draw: st.DrawFn) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if draw(st.booleans()):
        base = call_form(draw(st.sampled_from(SIDS)))
        if draw(st.booleans()):
            base.pop("CallSid")  # a call we never saw
        pairs += list(base.items())
    pairs += draw(st.lists(st.tuples(keys, values), max_size=25))
    if draw(st.booleans()):  # repeated keys
        pairs += draw(st.lists(st.tuples(st.sampled_from(["Digits", "CallSid", "From"]), values),
                               max_size=4))
    return draw(st.permutations(pairs))


states = st.builds(
    lambda node, invalid, silence, entry, path: CallState(
        node=node, invalid=invalid, silence=silence, entry=entry, path=tuple(path)).encode(),
    st.sampled_from(NODES), st.integers(0, 9), st.integers(0, 9),
    st.sampled_from(["", "12345678", "23456789", "34567890", "99999999", "1"]),
    st.lists(st.sampled_from(NODES), max_size=30),
)

query_strings = st.one_of(
    st.just(""),
    states.map(lambda s: "s=" + quote(s, safe="")),
    st.text(max_size=60).map(lambda s: "s=" + quote(s, safe="")),
    st.tuples(states, states).map(lambda p: f"s={quote(p[0])}&s={quote(p[1])}"),
    st.tuples(states, st.text(string.digits + "x", max_size=3)).map(
        lambda p: f"s={quote(p[0])}&q={quote(p[1])}"),
    st.text(alphabet=string.ascii_letters + string.digits + "%=&.-_+;", max_size=60),
)


def signed_post(app: Flask, path: str, query: str, body: bytes,
                params: MultiDict[str, str], token: str = AUTH_TOKEN,
                algorithm: str | None = None) -> TestResponse:
    url = path + ("?" + query if query else "")
    headers = {"X-Twilio-Signature":
               RequestValidator(token).compute_signature("http://localhost" + url, params,
                                                         algorithm)}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"algorithm={algorithm}"
    return app.test_client().post(url, data=body, headers=headers,
                                  content_type="application/x-www-form-urlencoded")


def assert_answers_the_caller(path: str, response: TestResponse, routes: list[str]) -> None:
    body = response.data
    assert response.status_code < 500, body
    assert b"Traceback" not in body and b'File "' not in body, body
    if path == "/voice/status":
        assert response.status_code == 204, body[:500]
        assert body == b""
        return
    assert response.status_code == 200, body[:500]
    assert response.mimetype == "text/xml"
    doc = Doc.parse(body)  # root must be <Response>
    assert doc.verbs, doc.raw
    assert set(doc.verbs) <= TWIML_VERBS, doc.raw
    assert doc.verbs[-1] in END_VERBS, f"the document ends in silence: {doc.raw}"
    for element in doc.root.iter():
        url = element.attrib.get("action") or (element.text if element.tag == "Redirect"
                                               else None)
        if url is None:
            continue
        target = urlsplit(url)
        assert target.path in routes, url
        state = dict(parse_qsl(target.query)).get("s")
        assert state is None or CallState.decode(state) is not None, url


def snapshot(app: Flask) -> dict[str, object]:
    app.extensions["call_recorder"].flush()
    with app.extensions["database"].transaction() as session:
        result: dict[str, object] = {
            table: session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()
            for table in TABLES}
        result["contacts"] = session.execute(
            select(Contact.cpf, Contact.failed_attempts, Contact.locked_until)
            .order_by(Contact.cpf)).all()
    return result


# -- correctly signed --------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_signed_form_bodies_always_get_twiml(
    app: Flask, demo_data: None, clock: Clock, data: st.DataObject
) -> None:
    routes = voice_routes(app)
    path = data.draw(st.sampled_from(routes), label="path")
    query = data.draw(query_strings, label="query")
    pairs = data.draw(form_bodies(), label="form")
    clock.moment = data.draw(st.sampled_from(MOMENTS), label="now")
    body = urlencode(pairs).encode()
    assume(len(body) < 60_000)  # the provider's webhooks are a few hundred bytes
    algorithm = data.draw(st.sampled_from([None, "HMAC_SHA256"]), label="algorithm")
    response = signed_post(app, path, query, body, MultiDict(pairs), algorithm=algorithm)
    if not shaped_as_the_providers(pairs):
        # A repeated field or a name the provider never sends: refused even when signed.
        assert response.status_code == 403, response.data[:300]
        return
    assert_answers_the_caller(path, response, routes)


def shaped_as_the_providers(pairs: list[tuple[str, str]]) -> bool:
    names = [name for name, _value in pairs]
    return len(set(names)) == len(names) and all(
        name[:1].isascii() and name[:1].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "_.-") for c in name)
        for name in names)


@FUZZ_SMALL
@given(data=st.data())
def test_signed_raw_bodies_never_break_a_webhook(
    app: Flask, data: st.DataObject
) -> None:
    routes = voice_routes(app)
    path = data.draw(st.sampled_from(routes), label="path")
    query = data.draw(query_strings, label="query")
    raw = data.draw(st.one_of(
        st.binary(max_size=300),
        st.text(max_size=200).map(lambda t: t.encode("utf-8")),
        st.text(alphabet="&=%+;#0123456789abcDigitsCallSid", max_size=200).map(str.encode),
    ), label="body")
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        decoded = raw.decode("latin-1")
    try:
        params = MultiDict(parse_qsl(decoded, keep_blank_values=True))
    except ValueError:
        params = MultiDict()
    response = signed_post(app, path, query, raw, params)
    assert response.status_code < 500
    assert b"Traceback" not in response.data
    if response.status_code == 403:
        return  # the server read the body differently from this test: judged unsigned
    assert_answers_the_caller(path, response, routes)


SPEECH = st.one_of(st.sampled_from(INTERESTING), st.text(max_size=400),
                   st.lists(st.sampled_from(["cinco", "meia", "financeiro", "e", "boleto", "vinte",
                                             "cento", "nota", "fiscal", "o", "2", "menu"]),
                            max_size=60).map(" ".join))
CONFIDENCE = st.one_of(st.none(), st.sampled_from(INTERESTING), st.text(max_size=12),
                       st.floats(allow_nan=True, allow_infinity=True).map(repr))


@FUZZ_SMALL
@given(data=st.data())
def test_every_webhook_takes_any_speech_result_and_confidence(
    app: Flask, demo_data: None, clock: Clock, data: st.DataObject
) -> None:
    routes = voice_routes(app)
    path = data.draw(st.sampled_from(routes), label="path")
    query = data.draw(st.one_of(states.map(lambda s: "s=" + quote(s, safe="")), query_strings),
                      label="query")
    clock.moment = data.draw(st.sampled_from(MOMENTS), label="now")
    extra = {"SpeechResult": data.draw(SPEECH, label="speech")}
    confidence = data.draw(CONFIDENCE, label="confidence")
    if confidence is not None:
        extra["Confidence"] = confidence
    if data.draw(st.booleans(), label="with digits"):
        extra["Digits"] = data.draw(values, label="digits")
    pairs = list(call_form(data.draw(st.sampled_from(SIDS)), **extra).items())
    body = urlencode(pairs).encode()
    assume(len(body) < 60_000)
    response = signed_post(app, path, query, body, MultiDict(pairs))
    assert_answers_the_caller(path, response, routes)


ODD_DIGITS = ["", "7" * 10_000, "abc", "١٢٣", "*#*#", "0" * 17, "12345678", "1"]
ODD_STATES = ["", "s=", "s=principal.0.0..principal", "s=%25%25%25", "s=oferta_p.2.2..principal",
              "s=no_such_node.9.9.99999999.principal", "s=educacional.0.0.12345678.principal",
              "s=principal.0.0." + "-".join(["principal"] * 30), "s=a&s=b", "s=principal.x.0.."]


def test_every_webhook_answers_odd_digits_and_states(app: Flask, demo_data: None) -> None:
    routes = voice_routes(app)
    failures = []
    for path in routes:
        for state in ODD_STATES:
            for digits in ODD_DIGITS:
                pairs = list(call_form(SIDS[1], Digits=digits).items())
                response = signed_post(app, path, state, urlencode(pairs).encode(),
                                       MultiDict(pairs))
                try:
                    assert_answers_the_caller(path, response, routes)
                except AssertionError as error:
                    failures.append(f"{path}?{state} Digits={digits[:20]!r}: {error}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("duration", ["²", "٣", "9" * 5000, "99999999999", "2147483648"])
def test_status_callback_with_an_odd_duration_still_ends_the_call(
    app: Flask, duration: str
) -> None:
    routes = voice_routes(app)
    sid = SIDS[2]
    start = list(call_form(sid).items())
    assert signed_post(app, "/voice", "", urlencode(start).encode(),
                       MultiDict(start)).status_code == 200
    pairs = list(call_form(sid, CallStatus="completed", CallDuration=duration).items())
    response = signed_post(app, "/voice/status", "", urlencode(pairs).encode(), MultiDict(pairs))
    assert_answers_the_caller("/voice/status", response, routes)
    with app.extensions["database"].transaction() as session:
        row = session.execute(text("SELECT ended_at, final_status FROM calls WHERE call_sid = :s"),
                              {"s": sid}).one()
    assert row.ended_at is not None and row.final_status == "completed"


# -- not signed by the provider ----------------------------------------------------------------


@pytest.fixture
def recorded(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    events: list[object] = []
    recorder = app.extensions["call_recorder"]
    original = recorder.record

    def spy(event: object) -> None:
        events.append(event)
        original(event)

    monkeypatch.setattr(recorder, "record", spy)
    return events


@FUZZ
@given(data=st.data())
def test_unsigned_or_badly_signed_requests_are_refused_and_write_nothing(
    app: Flask, demo_data: None, recorded: list[object], data: st.DataObject
) -> None:
    routes = voice_routes(app)
    before = snapshot(app)
    path = data.draw(st.sampled_from(routes), label="path")
    query = data.draw(query_strings, label="query")
    pairs = data.draw(form_bodies(), label="form")
    body = urlencode(pairs).encode()
    url = path + ("?" + query if query else "")
    validator = RequestValidator(AUTH_TOKEN)
    how = data.draw(st.sampled_from(["none", "empty", "wrong-token", "other-url", "other-body",
                                     "random", "sha256-header-sha1-signature"]), label="how")
    headers: dict[str, str] = {}
    if how == "empty":
        headers["X-Twilio-Signature"] = ""
    elif how == "wrong-token":
        headers["X-Twilio-Signature"] = RequestValidator("wrong-token").compute_signature(
            "http://localhost" + url, MultiDict(pairs))
    elif how == "other-url":
        other = data.draw(st.sampled_from([r for r in routes if r != path]), label="other")
        headers["X-Twilio-Signature"] = validator.compute_signature(
            "http://localhost" + other + ("?" + query if query else ""), MultiDict(pairs))
    elif how == "other-body":
        headers["X-Twilio-Signature"] = validator.compute_signature(
            "http://localhost" + url, MultiDict([*pairs, ("Digits", "tampered")]))
    elif how == "random":
        headers["X-Twilio-Signature"] = data.draw(
            st.text(alphabet=string.ascii_letters + string.digits + "+/=", max_size=40),
            label="signature")
    elif how == "sha256-header-sha1-signature":
        headers["X-Twilio-Signature"] = validator.compute_signature(
            "http://localhost" + url, MultiDict(pairs))
        headers["X-Twilio-Webhooks-Signature-Settings"] = "algorithm=HMAC_SHA256"
    response = app.test_client().post(url, data=body, headers=headers,
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403, (how, response.data[:300])
    assert b"Traceback" not in response.data
    assert recorded == []
    assert snapshot(app) == before


@pytest.mark.parametrize("fields", [201, 1000])
def test_an_unsigned_request_with_too_many_fields_is_refused(
    app: Flask, recorded: list[object], fields: int
) -> None:
    before = snapshot(app)
    body = urlencode([(f"k{i}", "v") for i in range(fields)]).encode()
    for path in voice_routes(app):
        response = app.test_client().post(path, data=body,
                                          content_type="application/x-www-form-urlencoded")
        assert response.status_code == 403, (path, response.data[:300])
    time.sleep(0.3)
    assert recorded == []
    assert snapshot(app) == before
