"""Companies, their contacts (who may call), and the state of phone logins.

All login state lives in the database, so every worker and instance sees the same counts:
``Contact.failed_attempts``/``locked_until`` (the 5-strikes lock), ``CallLogin`` (one row per
call: its failures and, once logged in, who), ``CallerFailure`` (failures per calling number,
across CPFs), ``LineLoginFailures`` (password checks and refusals on the whole line, per
minute) and ``LoginAttempt`` (the audit trail, CPF masked).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, UTCDateTime

CPF_COLUMN_LENGTH = 11
CNPJ_COLUMN_LENGTH = 14
NAME_LENGTH = 200
BCRYPT_HASH_LENGTH = 60
MASKED_CPF_LENGTH = 14
PHONE_LENGTH = 64
CALL_SID_LENGTH = 64
E164_LENGTH = 16
PEPPER_ID_LENGTH = 16  # auth.passwords.PEPPER_ID_LENGTH


def utc_now() -> datetime:
    return datetime.now(UTC)


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cnpj: Mapped[str] = mapped_column(String(CNPJ_COLUMN_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))


class Contact(Base):
    """A person of a client company who may call; an admin manages the company's registration."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cpf: Mapped[str] = mapped_column(String(CPF_COLUMN_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # E.164: where reminder calls about the contact's tickets go (docs/rules.md#reminder-calls)
    phone: Mapped[str | None] = mapped_column(String(E164_LENGTH))
    # bcrypt only; NULL until a password is set (such a contact cannot log in by phone)
    password_hash: Mapped[str | None] = mapped_column(String(BCRYPT_HASH_LENGTH))
    # the pepper the hash was made with (auth.passwords.Pepper.id); NULL: the digits alone
    password_pepper: Mapped[str | None] = mapped_column(String(PEPPER_ID_LENGTH))
    # consecutive failed logins; changed only by single atomic UPDATEs (see auth.counters)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # last change to the contact's data (name, company, admin flag, password), not the counters
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    def replace_password_hash(self, password_hash: str, now: datetime,
                              pepper_id: str | None = None) -> None:
        """A new password starts clean: the failures and any lock were about the old one."""
        self.password_hash = password_hash
        self.password_pepper = pepper_id
        self.failed_attempts = 0
        self.locked_until = None
        self.updated_at = now


def first_name_of(name: str) -> str:
    parts = name.split()
    return parts[0] if parts else ""


class LoginAttempt(Base):
    """One row per phone login attempt, whatever its result; the CPF is kept masked only."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    masked_cpf: Mapped[str] = mapped_column(String(MASKED_CPF_LENGTH))
    # the contact the CPF belongs to, when it does: lets an admin see a contact's attempts
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    caller: Mapped[str] = mapped_column(String(PHONE_LENGTH))
    call_sid: Mapped[str] = mapped_column(String(CALL_SID_LENGTH))
    # the true reason (see auth.service.AuditResult), even where the caller hears "failed"
    result: Mapped[str] = mapped_column(String(24))


class CallLogin(Base):
    """Login state of one call: failures so far and, after a success, who is logged in."""

    __tablename__ = "call_logins"

    call_sid: Mapped[str] = mapped_column(String(CALL_SID_LENGTH), primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    logged_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # lets a clean-up find rows whose call never sent its status callback
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CallerFailure(Base):
    """Failed logins from one calling number (any CPF) inside a sliding window."""

    __tablename__ = "caller_failures"

    caller: Mapped[str] = mapped_column(String(PHONE_LENGTH), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LineLoginFailures(Base):
    """Password checks on the whole line (any number, any CPF) in one minute, and how many of
    them were refused.

    A handful of rows: those older than the window are deleted as logins come (see
    ``auth.line_failures``).
    """

    __tablename__ = "line_login_failures"

    # the minute's start, UTC (seconds and below zero)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)  # refused checks, counted in ``checks`` too
    checks: Mapped[int] = mapped_column(Integer)
