"""Admin accounts: creation, and the console's login with a lockout kept in the database.

``MAX_FAILURES`` (10) consecutive refusals lock an account for ``LOCK_DURATION``, whichever
instance served them: each refusal is one atomic ``UPDATE`` of the account's row. A locked
account is refused even with the right password. Every answer costs one bcrypt check of the
configured cost, so the time tells neither an unknown name nor a lock.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import bcrypt
from sqlalchemy import case, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.models import USERNAME_LENGTH, AdminAccount, AdminLogin
from database.base import UTCDateTime

MAX_FAILURES = 10
LOCK_DURATION = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_BYTES = 72  # bcrypt ignores what follows
_USERNAME = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{USERNAME_LENGTH - 1}}}")


class AccountError(ValueError):
    """An account that cannot be created as asked; ``str()`` says why and is safe to show."""


def username_problem(username: str) -> str | None:
    if not _USERNAME.fullmatch(username):
        return (f"a username is 1 to {USERNAME_LENGTH} lower-case letters, digits, '.', '_' or "
                "'-', starting with a letter or digit")
    return None


def password_problem(password: str, username: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"the password must fit in {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)"
    if username and username in password.lower():
        return "the password must not contain the username"
    if len(set(password)) < 4:
        return "the password must not repeat so few characters"
    return None


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


@lru_cache(maxsize=32)
def _stand_in_hash(rounds: int) -> bytes:
    """Checked instead when there is no account to check: the same cost, no match."""
    return bcrypt.hashpw(b"no admin has this password", bcrypt.gensalt(rounds))


def create_admin(session: Session, username: str, password: str, *, now: datetime,
                 rounds: int) -> AdminAccount:
    """Raises ``AccountError`` for a bad name or password, or a name already taken."""
    username = username.strip().lower()
    problem = username_problem(username) or password_problem(password, username)
    if problem is not None:
        raise AccountError(problem)
    account = AdminAccount(username=username, password_hash=_hash(password, rounds),
                           failed_logins=0, created_at=now)
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        raise AccountError(f"an admin named {username!r} already exists") from None
    return account


def any_admin(session: Session) -> bool:
    return session.scalar(select(AdminAccount.id).limit(1)) is not None


@dataclass(frozen=True)
class LoginResult:
    account: AdminAccount | None  # set when the login succeeded
    result: str  # ok | refused | locked

    @property
    def ok(self) -> bool:
        return self.account is not None


def log_in(session: Session, username: str, password: str, *, now: datetime, rounds: int,
           address: str | None) -> LoginResult:
    """Checks the password and records the attempt; the caller commits."""
    name = username.strip().lower()[:USERNAME_LENGTH]
    account = session.scalar(select(AdminAccount).where(AdminAccount.username == name))
    candidate = password.encode("utf-8")[:MAX_PASSWORD_BYTES]
    locked = account is not None and account.locked_until is not None \
        and account.locked_until > now
    if account is None or locked:
        bcrypt.checkpw(candidate, _stand_in_hash(rounds))
        result = LoginResult(None, "locked" if locked else "refused")
    elif bcrypt.checkpw(candidate, account.password_hash.encode("ascii")):
        _succeeded(session, account, password, now=now, rounds=rounds)
        result = LoginResult(account, "ok")
    else:
        _count_failure(session, account.id, now)
        result = LoginResult(None, "refused")
    session.add(AdminLogin(at=now, username=name, result=result.result,
                           address=(address or "")[:64] or None))
    return result


def _succeeded(session: Session, account: AdminAccount, password: str, *, now: datetime,
               rounds: int) -> None:
    values: dict[str, object] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
    if bcrypt_cost(account.password_hash) < rounds:  # BCRYPT_ROUNDS was raised since
        values["password_hash"] = _hash(password, rounds)
    session.execute(update(AdminAccount).where(AdminAccount.id == account.id).values(**values))
    session.refresh(account)


def _count_failure(session: Session, account_id: int, now: datetime) -> None:
    """One atomic UPDATE: the tenth consecutive refusal locks the account and starts the count
    again for after the lock."""
    reaches_limit = AdminAccount.failed_logins + 1 >= MAX_FAILURES
    session.execute(
        update(AdminAccount).where(AdminAccount.id == account_id).values(
            failed_logins=case((reaches_limit, 0), else_=AdminAccount.failed_logins + 1),
            locked_until=case((reaches_limit, literal(now + LOCK_DURATION, UTCDateTime())),
                              else_=AdminAccount.locked_until),
        )
    )


def unlock(session: Session, username: str, *, now: datetime) -> bool:
    """Clears the account's failed logins and lock (someone else's wrong passwords need not
    keep its admin out for ``LOCK_DURATION``); True if it was locked. Raises ``AccountError``
    for a name no admin has."""
    name = username.strip().lower()
    account = session.scalar(select(AdminAccount).where(AdminAccount.username == name))
    if account is None:
        raise AccountError(f"no admin is named {name[:USERNAME_LENGTH]!r}")
    was_locked = account.locked_until is not None and account.locked_until > now
    session.execute(update(AdminAccount).where(AdminAccount.id == account.id)
                    .values(failed_logins=0, locked_until=None))
    return was_locked


def bcrypt_cost(password_hash: str) -> int:
    return int(password_hash.split("$")[2])


def session_key(account: AdminAccount) -> str:
    """Kept in the session cookie: a new password or a logout ends every session signed
    before it."""
    material = f"{account.session_epoch}:{account.password_hash}".encode("ascii")
    return hashlib.sha256(material).hexdigest()[:24]


def end_sessions(session: Session, account_id: int) -> None:
    session.execute(update(AdminAccount).where(AdminAccount.id == account_id)
                    .values(session_epoch=AdminAccount.session_epoch + 1))
