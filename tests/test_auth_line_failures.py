"""Password spraying: the line-wide count of refused logins slows every login when it spikes
above both a fixed count and half of the line's password checks."""

from __future__ import annotations

import logging
import multiprocessing
from datetime import timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import create_engine, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from auth.documents import is_valid_cpf
from auth.line_failures import (
    LINE_REFUSED_SHARE,
    LINE_THRESHOLD,
    LINE_WINDOW,
    MAX_LINE_DELAY_SECONDS,
    LineCount,
    PasswordCheck,
    line_count,
    line_delay_seconds,
    line_failures,
    observe_login,
)
from auth.models import LineLoginFailures
from auth.service import LoginResult, verify_login
from database.migrate import alembic_config, upgrade
from database.session import Database
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, OPEN_HOURS, SignedClient, call_form
from tests.conftest_auth import (
    CPF,
    NOW,
    OTHER_CPF,
    PASSWORD,
    ROUNDS,
    WRONG_PASSWORD,
    add_contact,
    db_fixture,  # noqa: F401 - provides the "db" fixture
)
from tests.schema import schema_differences
from tests.twiml import Doc

COMMON_PIN = "147258"  # a keypad column: not refused as trivial, and common


def make_cpf(index: int) -> str:
    """A valid CPF, a different one for each index below 10,000."""
    digits = [int(c) for c in f"{314159000 + index:09d}"]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    cpf = "".join(map(str, digits))
    assert is_valid_cpf(cpf)
    return cpf


def attempt(db: Database, *, cpf: str = CPF, password: str = PASSWORD, call_sid: str,
            caller: str, at: timedelta = timedelta(0)) -> LoginResult:
    with db.transaction() as session:
        return verify_login(session, cpf=cpf, password=password, call_sid=call_sid,
                            caller=caller, now=NOW + at, rounds=ROUNDS)


def fail_from_new_numbers(db: Database, times: int, *, at: timedelta = timedelta(0),
                          cpf: str = OTHER_CPF) -> list[LoginResult]:
    """Failures each in its own call from its own number: no per-call or per-number limit."""
    return [attempt(db, cpf=cpf, password=WRONG_PASSWORD, call_sid=f"CA-{at}-{index}",
                    caller=f"+55219{at.seconds:05d}{index:04d}", at=at)
            for index in range(times)]


def count_now(db: Database, at: timedelta = timedelta(0)) -> int:
    with db.session() as session:
        return line_failures(session, NOW + at)


def slowdown_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.getMessage().startswith("line slowdown")
            and record.levelno == logging.WARNING]


def line_traffic(db: Database, checks: list[PasswordCheck], *,
                 at: timedelta = timedelta(0)) -> list[LineCount]:
    """Password checks seen by the line, in one transaction, without the login around them."""
    with db.transaction() as session:
        return [observe_login(session, NOW + at, check) for check in checks]


def honest_minutes(db: Database, minutes: range, *, checks: int = 100,
                   refused_every: int = 5) -> list[LineCount]:
    """Honest callers: ``checks`` a minute, one in ``refused_every`` mistyped (20%)."""
    pattern: list[PasswordCheck] = ["refused" if index % refused_every == 0 else "accepted"
                                    for index in range(checks)]
    return [count for minute in minutes
            for count in line_traffic(db, pattern, at=timedelta(minutes=minute))]


def test_the_delay_schedule() -> None:
    assert LINE_THRESHOLD == 30 and LINE_WINDOW == timedelta(minutes=10)
    assert LINE_REFUSED_SHARE == 0.5
    beyond = [-5, 0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 470]
    assert [line_delay_seconds(n) for n in beyond] == [0, 0, 2, 2, 4, 4, 8, 8, 16, 16, 20, 20]


@pytest.mark.parametrize(("checks", "failures", "allowed", "delay"), [
    (0, 0, 30, 0),
    (31, 31, 30, 2),  # a sprayer on a quiet line: as with the count alone
    (71, 71, 30, 20),
    (60, 31, 30, 2),  # 29 accepted allow fewer than 30: the fixed count rules
    (62, 31, 31, 0),  # exactly half refused: not past the share
    (1000, 200, 800, 0),  # a busy line of honest callers, 20% mistyped
    (1000, 450, 550, 0),  # an honest bad day, 45% refused
    (1601, 801, 800, 2),  # a sprayer past the share on that busy line
    (1611, 811, 800, 4),
    (1671, 871, 800, 20),
])
def test_the_line_allows_30_refusals_or_as_many_as_its_accepted_checks(
    checks: int, failures: int, allowed: int, delay: int
) -> None:
    count = LineCount(checks=checks, failures=failures)
    assert (count.allowed_failures, count.delay_seconds) == (allowed, delay)
    assert count.slowed == (delay > 0)


def test_spraying_one_pin_over_90_cpfs_from_new_numbers_slows_every_login(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The probe: one common PIN against 90 CPFs, 3 per call, 30 calls each from a new (forged)
    number, within 8 minutes; the 90th CPF is the contact that used it. The limits per call, per
    CPF and per number cost the sprayer a 2 s pause per call; the line's count must cost far
    more, and from every number."""
    caplog.set_level(logging.INFO)
    cpfs = [make_cpf(index) for index in range(90)]
    add_contact(db, cpf=cpfs[40], password="591827", name="Outra Pessoa")
    add_contact(db, cpf=cpfs[89], password=COMMON_PIN, name="Vítima Comum")
    results: list[LoginResult] = []
    for call in range(30):
        for turn in range(3):
            index = call * 3 + turn
            results.append(attempt(db, cpf=cpfs[index], password=COMMON_PIN,
                                   call_sid=f"CA-spray-{call}", caller=f"+5521980{call:06d}",
                                   at=timedelta(seconds=5 * index)))

    found = results[-1]
    assert found.ok and found.first_name == "Vítima"  # slowed, not stopped: the lock is per CPF
    # the view hangs up after a call's 3rd failure: every other answer comes after its pause
    heard = [r for r in results if r.status != "too_many_in_call"]
    assert sum(r.delay_seconds for r in heard) >= 5 * 60  # was 60 s: 2 s per call
    past_threshold = results[LINE_THRESHOLD:]
    assert all(r.delay_seconds >= 2 for r in past_threshold)
    # a new number's first try, which the per-number pause leaves at 0, waits too
    first_tries = [r.delay_seconds for r in results[0::3]]
    assert first_tries[:LINE_THRESHOLD // 3] == [0] * (LINE_THRESHOLD // 3)
    assert first_tries[-1] == MAX_LINE_DELAY_SECONDS
    assert found.delay_seconds == MAX_LINE_DELAY_SECONDS  # the find is answered after 20 s
    assert count_now(db, timedelta(minutes=8)) == 89
    assert slowdown_lines(caplog) == [
        "line slowdown on: 31 of 31 password checks refused in the last 10 minutes (past 30 and "
        "past 50% of the checks, any number, any CPF): every login now waits 2 s before its "
        "answer"]


def test_everyone_waits_while_the_line_is_slowed_then_nobody(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    add_contact(db)
    add_contact(db, cpf=OTHER_CPF, name="João")
    fail_from_new_numbers(db, LINE_THRESHOLD)
    assert attempt(db, call_sid="CA-before", caller="+5511911110000").delay_seconds == 0
    caplog.set_level(logging.WARNING)

    sprayed = fail_from_new_numbers(db, 11, at=timedelta(minutes=1))
    assert [r.delay_seconds for r in sprayed] == [2] * 10 + [4]

    # Maria, calling from her own number, in the middle of it: right or wrong, she waits
    good = attempt(db, call_sid="CA-maria", caller="+5511987654321", at=timedelta(minutes=2))
    assert good.ok and good.delay_seconds == 4
    wrong = attempt(db, password=WRONG_PASSWORD, call_sid="CA-maria-2", caller="+5511987654321",
                    at=timedelta(minutes=2))
    assert (wrong.status, wrong.delay_seconds) == ("failed", 4)

    # ten minutes after the first 30 failures they leave the window: 12 remain, nobody waits
    later = attempt(db, call_sid="CA-later", caller="+5511987654321",
                    at=LINE_WINDOW + timedelta(seconds=1))
    assert later.ok and later.delay_seconds == 0
    assert count_now(db, LINE_WINDOW + timedelta(seconds=1)) == 12
    attempt(db, call_sid="CA-later-2", caller="+5511987654321",
            at=LINE_WINDOW + timedelta(seconds=2))
    assert slowdown_lines(caplog) == [
        "line slowdown on: 31 of 32 password checks refused in the last 10 minutes (past 30 and "
        "past 50% of the checks, any number, any CPF): every login now waits 2 s before its "
        "answer",
        "line slowdown off: 12 of 14 password checks refused in the last 10 minutes (30 "
        "allowed: 30, or 50% of the checks): logins no longer wait",
    ]


def test_a_busy_line_of_honest_callers_waits_for_nothing(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """500 callers on the line: 1,000 password checks in 10 minutes, 200 of them mistyped.
    The 200 refusals are far past 30, but a fifth of the checks."""
    add_contact(db)
    caplog.set_level(logging.WARNING)
    counts = honest_minutes(db, range(10))
    assert counts[-1] == LineCount(checks=1000, failures=200)
    assert [count.delay_seconds for count in counts] == [0] * 1000

    later = timedelta(minutes=9, seconds=30)
    wrong = attempt(db, password=WRONG_PASSWORD, call_sid="CA-typo", caller="+5511900000001",
                    at=later)
    right = attempt(db, call_sid="CA-typo", caller="+5511900000001", at=later)
    assert (wrong.status, wrong.delay_seconds) == ("failed", 0)
    assert (right.status, right.delay_seconds) == ("ok", 0)
    with db.session() as session:
        assert line_count(session, NOW + later) == LineCount(checks=1002, failures=201)
    assert slowdown_lines(caplog) == []


def test_a_sprayer_on_a_busy_line_is_slowed_past_as_many_refusals_as_accepted_checks(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Honest callers (800 accepted, 200 refused) allow 800 refusals: the sprayer's first 600
    go unslowed, then every refusal past 800 costs what one past 30 costs on a quiet line, and
    every caller waits as long."""
    add_contact(db)
    caplog.set_level(logging.WARNING)
    honest_minutes(db, range(10))
    spray_at = timedelta(minutes=9, seconds=30)
    unslowed = line_traffic(db, ["refused"] * 600, at=spray_at)
    assert unslowed[-1] == LineCount(checks=1600, failures=800)
    assert max(count.delay_seconds for count in unslowed) == 0
    assert slowdown_lines(caplog) == []

    sprayed = fail_from_new_numbers(db, 71, at=spray_at, cpf=make_cpf(3))
    assert [r.delay_seconds for r in sprayed] == [2] * 10 + [4] * 10 + [8] * 10 + [16] * 10 + [
        20] * 31
    maria = attempt(db, call_sid="CA-maria", caller="+5511987654321", at=spray_at)
    assert maria.ok and maria.delay_seconds == MAX_LINE_DELAY_SECONDS
    assert slowdown_lines(caplog) == [
        "line slowdown on: 801 of 1601 password checks refused in the last 10 minutes (past 30 "
        "and past 50% of the checks, any number, any CPF): every login now waits 2 s before "
        "its answer"]

    # the first minute of honest traffic leaves the window; the spray stays in it, and the
    # line stays slowed on its refusals beyond the 722 accepted checks left
    next_minute = spray_at + timedelta(seconds=30)
    assert attempt(db, call_sid="CA-maria-2", caller="+5511987654321",
                   at=next_minute).delay_seconds == MAX_LINE_DELAY_SECONDS
    with db.session() as session:
        assert line_count(session, NOW + next_minute) == LineCount(checks=1573, failures=851)


def test_minutes_that_left_the_window_are_deleted(db: Database) -> None:
    add_contact(db)
    for minute in range(15):
        fail_from_new_numbers(db, 1, at=timedelta(minutes=minute))
    with db.session() as session:
        minutes = session.scalars(select(LineLoginFailures.minute)).all()
        assert len(minutes) == 10  # the current minute and the nine before it
        assert min(minutes) == NOW + timedelta(minutes=5)
    assert count_now(db, timedelta(minutes=14)) == 10
    assert count_now(db, timedelta(minutes=30)) == 0  # read-only: nothing deleted, none counted


def test_invalid_cpfs_do_not_count_but_wait_like_any_login(db: Database) -> None:
    add_contact(db)
    fail_from_new_numbers(db, 50, cpf="52998224724")  # check digits wrong: refused unchecked
    with db.session() as session:  # nor as checks: a sprayer could not dilute the share
        assert line_count(session, NOW) == LineCount(checks=0, failures=0)
    fail_from_new_numbers(db, LINE_THRESHOLD + 1, at=timedelta(seconds=1))
    invalid = attempt(db, cpf="52998224724", call_sid="CA-typo", caller="+5511900000001",
                      at=timedelta(seconds=2))
    assert (invalid.status, invalid.delay_seconds) == ("invalid_cpf", 2)


def test_unknown_cpfs_locked_contacts_and_contacts_without_password_all_count(
    db: Database,
) -> None:
    add_contact(db)
    add_contact(db, cpf=OTHER_CPF, password=None)
    fail_from_new_numbers(db, 7, cpf=CPF)  # 5 wrong passwords lock it; 2 more while locked
    fail_from_new_numbers(db, 2, cpf=OTHER_CPF, at=timedelta(seconds=1))
    fail_from_new_numbers(db, 3, cpf=make_cpf(1), at=timedelta(seconds=2))
    assert count_now(db, timedelta(seconds=2)) == 12


def test_the_count_is_shared_by_every_worker(db: Database) -> None:
    """Each worker process has its own engine: the count lives in the database only."""
    other_worker = Database(db.url)
    try:
        add_contact(db)
        fail_from_new_numbers(db, 20)
        with other_worker.transaction() as session:
            result = verify_login(session, cpf=make_cpf(7), password=WRONG_PASSWORD,
                                  call_sid="CA-w2", caller="+5511900000002", now=NOW,
                                  rounds=ROUNDS)
        assert result.delay_seconds == 0
        with other_worker.session() as session:
            assert line_failures(session, NOW) == 21
    finally:
        other_worker.dispose()


WORKERS = 8


def fail_once(url: str, index: int, barrier: Barrier, results: Queue[int]) -> None:
    database = Database(url)
    try:
        with database.session() as warm_up:
            warm_up.execute(select(1))
        barrier.wait(timeout=60)
        with database.transaction() as session:
            count = observe_login(session, NOW, "refused" if index % 2 else "accepted")
            results.put(count.checks)
    finally:
        database.dispose()


def test_concurrent_failures_in_one_minute_are_each_counted_once(db: Database) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results: Queue[int] = context.Queue()
    workers = [context.Process(target=fail_once, args=(db.url, index, barrier, results))
               for index in range(WORKERS)]
    for worker in workers:
        worker.start()
    seen = sorted(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)

    assert [worker.exitcode for worker in workers] == [0] * WORKERS
    with db.session() as session:
        assert line_count(session, NOW) == LineCount(checks=WORKERS, failures=WORKERS // 2)
    assert seen[-1] == WORKERS  # the last to commit saw every other
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(LineLoginFailures)) == 1


# --- over HTTP ---------------------------------------------------------------------------------


def post(signed: SignedClient, url: str, digits: str | None, sid: str, caller: str) -> Doc:
    extra = {"From": caller, "Caller": caller}
    if digits is not None:
        extra["Digits"] = digits
    response = signed.post(url, call_form(sid, **extra))
    assert response.status_code == 200, response.data
    return Doc.parse(response.data)


def test_a_new_number_s_first_wrong_password_is_answered_after_the_line_s_pause(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    with app.extensions["database"].transaction() as session:
        session.add(LineLoginFailures(minute=OPEN_HOURS.replace(second=0), failures=45,
                                      checks=60))
    sid, caller = "CA" + "7" * 32, "+5511955550000"
    doc = post(signed, "/voice", None, sid, caller)
    for key in "223991":
        doc = post(signed, doc.next_url(), key, sid, caller)
    doc = post(signed, doc.next_url(), None, sid, caller)  # the login's CPF prompt
    doc = post(signed, doc.next_url(), MARIA_CPF, sid, caller)
    doc = post(signed, doc.next_url(), "591827", sid, caller)

    assert doc.verbs[0] == "Pause" and doc.root[0].attrib["length"] == "4"  # 46 failures
    assert "não conferem" in doc.spoken()
    assert MARIA_PASSWORD not in doc.raw


def test_healthz_shows_the_line_s_refused_logins_for_an_alert(
    app: Flask, demo_data: None
) -> None:
    def logins() -> object:
        response = app.test_client().get("/healthz")
        assert response.status_code == 200
        return response.get_json()["logins"]

    assert logins() == {"refused_last_10_minutes": 0, "checked_last_10_minutes": 0,
                        "line_slowed": False}
    minute = OPEN_HOURS.replace(second=0)
    with app.extensions["database"].transaction() as session:
        session.add(LineLoginFailures(minute=minute, failures=31, checks=150))
    assert logins() == {"refused_last_10_minutes": 31, "checked_last_10_minutes": 150,
                        "line_slowed": False}
    with app.extensions["database"].transaction() as session:
        session.add(LineLoginFailures(minute=minute - timedelta(minutes=1), failures=90,
                                      checks=90))
    assert logins() == {"refused_last_10_minutes": 121, "checked_last_10_minutes": 240,
                        "line_slowed": True}


# --- the migration -----------------------------------------------------------------------------


def test_migration_builds_the_table_of_the_model_and_downgrade_removes_it(
    database_url: str,
) -> None:
    assert schema_differences(database_url, {"line_login_failures"}) == []
    command.downgrade(alembic_config(database_url), "0005_calls_outcome_unindexed")
    engine = create_engine(database_url)
    try:
        assert "line_login_failures" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    upgrade(database_url)
    assert schema_differences(database_url, {"line_login_failures"}) == []


def test_migration_0016_counts_the_minutes_already_there_as_all_refused(
    database_url: str,
) -> None:
    """A deploy inside an attack keeps the line slowed: the minutes counted before knew only
    their refusals. Downgrading drops the checks and keeps the refusals."""
    command.downgrade(alembic_config(database_url), "0012_around_the_call")
    engine = create_engine(database_url)
    try:
        assert "checks" not in {column["name"] for column
                                in inspect(engine).get_columns("line_login_failures")}
        with engine.begin() as connection:
            connection.execute(insert(LineLoginFailures).values(minute=NOW, failures=45))
        upgrade(database_url)
        assert schema_differences(database_url, {"line_login_failures"}) == []
        with Session(engine) as session:
            assert line_count(session, NOW) == LineCount(checks=45, failures=45)
            assert line_count(session, NOW).slowed
        command.downgrade(alembic_config(database_url), "0012_around_the_call")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT failures FROM line_login_failures")).all() == [
                (45,)]
    finally:
        engine.dispose()
    upgrade(database_url)
