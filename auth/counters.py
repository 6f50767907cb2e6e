"""Login counters, each changed by ONE atomic statement so concurrent workers never lose a count.

A read-modify-write (read the count, add one in Python, write it back) lets two workers that read
the same value both write ``n + 1``; here the database adds, inside the UPDATE or the upsert, and
hands back the new value with RETURNING (SQLite >= 3.35 and PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, literal, null, or_, update
from sqlalchemy.orm import Session

from auth.models import CallerFailure, CallLogin, Contact
from database.base import UTCDateTime
from database.upsert import upsert

LOCK_THRESHOLD = 5
LOCK_DURATION = timedelta(minutes=30)
CALLER_WINDOW = timedelta(hours=1)
# No call lasts this long (the provider ends calls within a day): a login row this old belongs
# to a call whose status callback was lost.
STALE_CALL_LOGIN = timedelta(days=2)


def _utc(value: datetime) -> ColumnElement[datetime]:
    return literal(value, UTCDateTime())


def _not_locked_at(now: datetime) -> ColumnElement[bool]:
    return or_(Contact.locked_until.is_(None), Contact.locked_until <= now)


def record_contact_failure(session: Session, contact_id: int, now: datetime) -> int | None:
    """Counts one failure; the 5th in a row locks the contact until ``now + LOCK_DURATION``.

    Returns the new count, or None when the contact is locked at ``now`` (possibly by a
    concurrent attempt): a locked contact's count is frozen so its lock is not extended. A lock
    that has expired starts the count again from this failure.
    """
    lock_expired = and_(Contact.locked_until.is_not(None), Contact.locked_until <= now)
    # every SET expression below sees the row as it was before this UPDATE
    new_count = case((lock_expired, 1), else_=Contact.failed_attempts + 1)
    statement = (
        update(Contact)
        .where(Contact.id == contact_id, _not_locked_at(now))
        .values(
            failed_attempts=new_count,
            locked_until=case(
                (new_count >= LOCK_THRESHOLD, _utc(now + LOCK_DURATION)),
                (lock_expired, null()),
                else_=Contact.locked_until,
            ),
        )
        .returning(Contact.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none()


def clear_contact_failures(session: Session, contact_id: int, now: datetime) -> bool:
    """Resets the count after a good password; False (nothing changed) if locked at ``now``."""
    statement = (
        update(Contact)
        .where(Contact.id == contact_id, _not_locked_at(now))
        .values(failed_attempts=0, locked_until=None)
        .returning(Contact.id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def record_call_failure(session: Session, call_sid: str, now: datetime) -> int:
    """Counts one failure of this call; returns the call's failures so far."""
    insert = upsert(session, CallLogin).values(call_sid=call_sid, failures=1, updated_at=now)
    statement = insert.on_conflict_do_update(
        index_elements=[CallLogin.call_sid],
        set_={"failures": CallLogin.failures + 1, "updated_at": insert.excluded.updated_at},
    ).returning(CallLogin.failures)
    return int(session.execute(statement).scalar_one())


def bind_call_login(
    session: Session, call_sid: str, *, contact_id: int, company_id: int, now: datetime
) -> None:
    """Records who is logged in on this call (a later login on the same call replaces it), and
    clears the logins of calls whose status callback never came."""
    session.execute(delete(CallLogin).where(CallLogin.updated_at < now - STALE_CALL_LOGIN))
    statement = upsert(session, CallLogin).values(
        call_sid=call_sid,
        contact_id=contact_id,
        company_id=company_id,
        logged_in_at=now,
        failures=0,
        updated_at=now,
    )
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=[CallLogin.call_sid],
        set_={
            "contact_id": excluded.contact_id,
            "company_id": excluded.company_id,
            "logged_in_at": excluded.logged_in_at,
            "updated_at": excluded.updated_at,
        },
    )
    session.execute(statement)


def record_caller_failure(session: Session, caller: str, now: datetime) -> int:
    """Counts one failure from this number; the count restarts after an hour without failures.

    Returns the failures within the window, this one included.
    """
    insert = upsert(session, CallerFailure).values(
        caller=caller, failures=1, last_failure_at=now
    )
    statement = insert.on_conflict_do_update(
        index_elements=[CallerFailure.caller],
        set_={
            "failures": case(
                (CallerFailure.last_failure_at <= now - CALLER_WINDOW, 1),
                else_=CallerFailure.failures + 1,
            ),
            "last_failure_at": insert.excluded.last_failure_at,
        },
    ).returning(CallerFailure.failures)
    return int(session.execute(statement).scalar_one())
