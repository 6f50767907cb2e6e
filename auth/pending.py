"""The CPF a caller keyed, kept between the CPF step and the password step of one call.

Held in the database by CallSid rather than in the action URL: URLs end up in the provider's
request logs and in access logs, where a full CPF must never appear. Any instance serving the
password step finds it here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from database.base import Base, UTCDateTime


class PendingLogin(Base):
    __tablename__ = "pending_logins"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    cpf: Mapped[str] = mapped_column(String(11))
    keyed_at: Mapped[datetime] = mapped_column(UTCDateTime())


def remember_cpf(session: Session, call_sid: str, cpf: str, now: datetime) -> None:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(PendingLogin).values(call_sid=call_sid, cpf=cpf, keyed_at=now)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[PendingLogin.call_sid], set_={"cpf": cpf, "keyed_at": now}
    ))


def take_cpf(session: Session, call_sid: str) -> str | None:
    """The CPF keyed on this call, forgotten as it is read (one password try per CPF entry)."""
    cpf = session.scalar(select(PendingLogin.cpf).where(PendingLogin.call_sid == call_sid))
    if cpf is not None:
        session.execute(delete(PendingLogin).where(PendingLogin.call_sid == call_sid))
    return cpf


def forget(session: Session, call_sid: str) -> None:
    session.execute(delete(PendingLogin).where(PendingLogin.call_sid == call_sid))
