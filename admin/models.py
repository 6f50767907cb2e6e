"""Admin accounts of the console, apart from the caller contacts of ``auth``, and their login
trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from database.base import Base, UTCDateTime

USERNAME_LENGTH = 64
BCRYPT_HASH_LENGTH = 60


class AdminAccount(Base):
    __tablename__ = "admin_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(BCRYPT_HASH_LENGTH))
    # consecutive failed logins; changed only by single atomic UPDATEs (admin.accounts)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of every session's key: a logout raises it, which ends the account's sessions
    # everywhere (a signed cookie copied before the logout is refused).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AdminLogin(Base):
    """One row per console login attempt, whatever its result (never the password)."""

    __tablename__ = "admin_logins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(USERNAME_LENGTH))
    # ok | refused (wrong password or unknown name) | locked
    result: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))
