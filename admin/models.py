"""Admin accounts of the console (apart from the caller contacts of ``auth``), their login
trail, and the rollups of the calls table its reports read."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String
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


# Rollups: the calls of a whole UTC day counted per hour once the day is over
# (``admin.rollups``), so a report over a year reads thousands of rows instead of millions.
NODE_LENGTH = 64


class RolledDay(Base):
    """A UTC day whose calls are counted in the rollup tables; its hours are read from them."""

    __tablename__ = "rolled_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    calls: Mapped[int] = mapped_column(Integer)


class CallHour(Base):
    """Calls that started in an hour, by outcome and the node it happened at."""

    __tablename__ = "call_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    node: Mapped[str] = mapped_column(String(NODE_LENGTH), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer)


class TransferHour(Base):
    """Transfers to people of the calls that started in an hour, by team and result."""

    __tablename__ = "transfer_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    team: Mapped[str] = mapped_column(String(NODE_LENGTH), primary_key=True)
    result: Mapped[str] = mapped_column(String(32), primary_key=True)
    transfers: Mapped[int] = mapped_column(Integer)


class NodeHour(Base):
    """The drop-off funnel of the calls that started in an hour, per node."""

    __tablename__ = "node_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    node: Mapped[str] = mapped_column(String(NODE_LENGTH), primary_key=True)
    reached: Mapped[int] = mapped_column(Integer)
    gave_up: Mapped[int] = mapped_column(Integer)
    retries_exhausted: Mapped[int] = mapped_column(Integer)


class LoginHour(Base):
    """Phone logins (``auth``'s login_attempts) in an hour, by result."""

    __tablename__ = "login_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    result: Mapped[str] = mapped_column(String(24), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
