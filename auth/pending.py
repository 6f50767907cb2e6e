"""The CPF a caller keyed, kept between the CPF step and the password step of one call.

Held in the database by CallSid rather than in the action URL: URLs end up in the provider's
request logs and in access logs, where a full CPF must never appear. Any instance serving the
password step finds it here.

A plaintext CPF must not outlive its use: an entry older than ``PENDING_FOR`` (10 minutes, far
longer than keying a password takes) is ignored and deleted when read, and every new entry first
sweeps away the ones older than ``SWEEP_AFTER`` (calls that hung up at the password prompt). The
table holds a handful of rows, so the sweep's scan costs nothing worth an index.

The password step reads the entry (``peek_cpf``), runs bcrypt, and only then ``consume``s it in the
short write transaction that records the result: no write lock is held while bcrypt runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from database.base import Base, UTCDateTime
from database.upsert import upsert

PENDING_FOR = timedelta(minutes=10)
SWEEP_AFTER = timedelta(hours=1)


class PendingLogin(Base):
    __tablename__ = "pending_logins"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cpf: Mapped[str] = mapped_column(String(11))
    keyed_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class PendingCpf:
    """One entry as read; ``consume`` deletes exactly this entry (not one keyed since)."""

    call_sid: str
    cpf: str = field(repr=False)
    keyed_at: datetime


def remember_cpf(session: Session, call_sid: str, cpf: str, now: datetime) -> None:
    """Keeps the CPF for this call's password step (replacing an earlier one of the call)."""
    session.execute(delete(PendingLogin).where(PendingLogin.keyed_at < now - SWEEP_AFTER))
    statement = upsert(session, PendingLogin).values(call_sid=call_sid, cpf=cpf, keyed_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=[PendingLogin.call_sid],
        set_={"cpf": statement.excluded.cpf, "keyed_at": statement.excluded.keyed_at},
    ))


def peek_cpf(session: Session, call_sid: str, now: datetime) -> PendingCpf | None:
    """The CPF keyed on this call, left in place; None if there is none or it is stale.

    Only reads, except that a stale entry is deleted (the caller commits): then None is returned
    and there is nothing slow left to do before the commit.
    """
    row = session.execute(
        select(PendingLogin.cpf, PendingLogin.keyed_at).where(PendingLogin.call_sid == call_sid)
    ).one_or_none()
    if row is None:
        return None
    entry = PendingCpf(call_sid, row.cpf, row.keyed_at)
    if now - entry.keyed_at > PENDING_FOR:
        consume(session, entry)
        return None
    return entry


def consume(session: Session, entry: PendingCpf) -> bool:
    """Forgets the entry (one password try per CPF entry); False if it was already gone, taken
    by a concurrent request of the same call or replaced by a newer entry."""
    statement = (
        delete(PendingLogin)
        .where(
            PendingLogin.call_sid == entry.call_sid,
            PendingLogin.cpf == entry.cpf,
            PendingLogin.keyed_at == entry.keyed_at,
        )
        .returning(PendingLogin.call_sid)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one_or_none() is not None


def forget(session: Session, call_sid: str) -> None:
    session.execute(delete(PendingLogin).where(PendingLogin.call_sid == call_sid))
