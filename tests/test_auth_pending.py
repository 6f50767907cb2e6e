"""The CPF kept between the CPF step and the password step: used once, and never kept for long."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from auth.pending import (
    PENDING_FOR,
    SWEEP_AFTER,
    PendingLogin,
    consume,
    peek_cpf,
    remember_cpf,
)
from database.session import Database
from tests.conftest_auth import (
    CPF,
    NOW,
    OTHER_CPF,
    db_fixture,  # noqa: F401 - provides the "db" fixture
)


def remember(db: Database, call_sid: str, cpf: str = CPF, at: timedelta = timedelta(0)) -> None:
    with db.transaction() as session:
        remember_cpf(session, call_sid, cpf, NOW + at)


def take(db: Database, call_sid: str, at: timedelta) -> str | None:
    """Read and forget in one transaction, as the password step does around its bcrypt check."""
    with db.transaction() as session:
        entry = peek_cpf(session, call_sid, NOW + at)
        if entry is None or not consume(session, entry):
            return None
        return entry.cpf


def stored(db: Database) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(select(PendingLogin.call_sid, PendingLogin.cpf))
        return {sid: cpf for sid, cpf in rows}


def test_the_limits_are_ten_minutes_and_an_hour() -> None:
    assert PENDING_FOR == timedelta(minutes=10) and SWEEP_AFTER == timedelta(hours=1)


def test_a_cpf_is_taken_once_within_ten_minutes(db: Database) -> None:
    remember(db, "CA-1")
    assert take(db, "CA-1", PENDING_FOR) == CPF
    assert take(db, "CA-1", PENDING_FOR) is None
    assert stored(db) == {}


def test_a_cpf_older_than_ten_minutes_is_ignored_and_deleted(db: Database) -> None:
    remember(db, "CA-1")
    remember(db, "CA-2", OTHER_CPF)
    assert take(db, "CA-1", PENDING_FOR + timedelta(seconds=1)) is None
    assert stored(db) == {"CA-2": OTHER_CPF}
    with db.transaction() as session:
        assert peek_cpf(session, "CA-2", NOW + PENDING_FOR + timedelta(seconds=1)) is None
    assert stored(db) == {}


def test_a_new_entry_sweeps_away_those_older_than_an_hour(db: Database) -> None:
    remember(db, "CA-old")
    remember(db, "CA-recent", OTHER_CPF, at=timedelta(minutes=1))
    remember(db, "CA-new", at=SWEEP_AFTER + timedelta(seconds=1))
    assert stored(db) == {"CA-recent": OTHER_CPF, "CA-new": CPF}


def test_peek_leaves_the_entry_and_reads_nothing_else(db: Database) -> None:
    remember(db, "CA-1")
    with db.transaction() as session:
        entry = peek_cpf(session, "CA-1", NOW)
        assert peek_cpf(session, "CA-2", NOW) is None
    assert entry is not None and entry.cpf == CPF
    assert CPF not in repr(entry)
    assert stored(db) == {"CA-1": CPF}


def test_consume_takes_only_the_entry_that_was_read(db: Database) -> None:
    remember(db, "CA-1")
    with db.session() as session:
        entry = peek_cpf(session, "CA-1", NOW)
    assert entry is not None
    remember(db, "CA-1", OTHER_CPF, at=timedelta(seconds=5))  # keyed again meanwhile
    with db.transaction() as session:
        assert not consume(session, entry)
    assert stored(db) == {"CA-1": OTHER_CPF}

    with db.session() as session:
        newer = peek_cpf(session, "CA-1", NOW + timedelta(seconds=5))
    assert newer is not None
    with db.transaction() as session:
        assert consume(session, newer)
    with db.transaction() as session:  # a concurrent request of the call comes second
        assert not consume(session, newer)
    assert stored(db) == {}
