"""Rate limits per call and per calling number (docs/rules.md#rate-limits): counted in the real
Redis (127.0.0.1:6379) and shared by instances, a polite goodbye over a limit, never a 5xx.

Every test uses fresh CallSids and numbers, so counts never meet another test's or run's."""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

from app import create_app, shutdown
from ivr.rate_limits import LIMITED, Limits, RateLimiter
from tests.conftest import AUTH_TOKEN, SignedClient, call_form
from tests.e2e import live_server
from tests.server import Gunicorn, ProviderClient
from tests.twiml import Doc

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")


def new_sid() -> str:
    return "CA" + secrets.token_hex(16)


def new_number() -> str:
    return f"+55119{secrets.randbelow(10**8):08d}"


@pytest.fixture
def limited_app(database_url: str, menus_file: Path) -> Iterator[Flask]:
    application = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "TESTING": True, "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_PER_CALL": 3, "RATE_LIMIT_PER_NUMBER": 5,
    })
    yield application
    shutdown(application)


def is_goodbye(doc: Doc) -> bool:
    return doc.spoken() == LIMITED and doc.verbs == ["Say", "Hangup"]


def test_a_call_over_its_limit_hears_a_polite_goodbye(limited_app: Flask) -> None:
    signed = SignedClient(limited_app.test_client())
    sid, number = new_sid(), new_number()
    answers = [signed.post("/voice", call_form(sid, From=number)) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [is_goodbye(Doc.parse(answer.data)) for answer in answers] == [False] * 3 + [True]
    assert Doc.parse(answers[0].data).gather is not None  # served as usual within the limit
    # The status callback still records the call's end.
    ended = signed.post("/voice/status", call_form(sid, From=number, CallStatus="completed"))
    assert ended.status_code == 204


def test_a_number_over_its_limit_is_refused_new_calls(limited_app: Flask) -> None:
    signed = SignedClient(limited_app.test_client())
    number = new_number()
    goodbyes = [is_goodbye(Doc.parse(signed.post("/voice", call_form(new_sid(), From=number)).data))
                for _ in range(6)]
    assert goodbyes == [False] * 5 + [True]
    # Another number, and callers who withhold theirs, are not held to that count.
    assert not is_goodbye(Doc.parse(signed.post("/voice", call_form(new_sid(),
                                                                    From=new_number())).data))
    for _ in range(6):
        withheld = signed.post("/voice", call_form(new_sid(), From="anonymous"))
        assert not is_goodbye(Doc.parse(withheld.data))


def test_unsigned_requests_count_against_nobody(limited_app: Flask) -> None:
    signed = SignedClient(limited_app.test_client())
    sid, number = new_sid(), new_number()
    for _ in range(5):
        assert signed.post("/voice", call_form(sid, From=number), signature="bad").status_code \
            == 403
    assert not is_goodbye(Doc.parse(signed.post("/voice", call_form(sid, From=number)).data))


def test_a_redis_that_lost_the_script_is_given_it_again() -> None:
    """A restarted or flushed Redis answers NOSCRIPT: the script is loaded and the count goes
    on (here the limiter starts with a name Redis cannot know)."""
    limiter = RateLimiter(REDIS_URL, Limits(per_call=2, per_number=100))
    limiter.sha = "0" * 40
    sid, number = new_sid(), new_number()
    try:
        assert [limiter.over(sid, number) for _ in range(3)] == [None, None, "call"]
    finally:
        limiter.close()
    assert limiter.sha != "0" * 40


def test_without_redis_calls_go_on_unlimited(database_url: str, menus_file: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application = create_app({
        "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "MENUS_FILE": menus_file,
        "BCRYPT_ROUNDS": 4, "TESTING": True, "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RATE_LIMIT_PER_CALL": 1, "RATE_LIMIT_PER_NUMBER": 1,
    })
    try:
        signed = SignedClient(application.test_client())
        sid = new_sid()
        with caplog.at_level(logging.WARNING, logger="ivr.rate_limits"):
            answers = [signed.post("/voice", call_form(sid)) for _ in range(3)]
    finally:
        shutdown(application)
    assert [answer.status_code for answer in answers] == [200] * 3
    assert not any(is_goodbye(Doc.parse(answer.data)) for answer in answers)
    skipped = [r for r in caplog.records if "Redis did not answer" in r.getMessage()]
    assert len(skipped) == 1  # then skipped for a while, not retried on every webhook


def test_limits_are_shared_by_two_instances(tmp_path: Path) -> None:
    """Two gunicorn instances (one worker each) on one database and one Redis: the counts span
    both, so no process's memory could hold them."""
    limits = {"REDIS_URL": REDIS_URL, "RATE_LIMIT_PER_CALL": "10",
              "RATE_LIMIT_PER_NUMBER": "16"}
    with live_server(tmp_path, workers=1, environ=limits) as first:
        second = Gunicorn({**first.server.env, "E2E_LOG": str(tmp_path / "second.log")},
                          workers=1)
        second.start()
        try:
            clients = [ProviderClient(first.server.base, AUTH_TOKEN),
                       ProviderClient(second.base, AUTH_TOKEN)]
            sid, number = new_sid(), new_number()
            answers = [clients[i % 2].post("/voice", call_form(sid, From=number))
                       for i in range(11)]
            assert [a.status for a in answers] == [200] * 11
            assert [is_goodbye(a.doc) for a in answers] == [False] * 10 + [True]
            # The number has made 11 webhooks: 5 more on new calls pass, the 17th is refused.
            more = [clients[i % 2].post("/voice", call_form(new_sid(), From=number))
                    for i in range(6)]
            assert [is_goodbye(a.doc) for a in more] == [False] * 5 + [True]
            ended = clients[1].post("/voice/status", call_form(sid, From=number,
                                                               CallStatus="completed"))
            assert ended.status == 204
        finally:
            second.stop()
