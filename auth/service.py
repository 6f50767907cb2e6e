"""Phone login rules (docs/rules.md#login): CPF and numeric password, checked in the database.

Every function takes the session from its caller, who commits. Commit after ``verify_login``
whatever its status: the failure counts and the audit row are part of the answer. Time is passed
in (``now``, aware UTC) and so is the bcrypt cost (``rounds``, the ``BCRYPT_ROUNDS`` setting).

``verify_login`` is ``check_login`` (reads and bcrypt, no write) then ``record_login`` (the writes,
no bcrypt). SQLite has one write lock for the whole database, taken at a transaction's first write
and held to its commit: a caller that splits the two and writes nothing before ``check_login``
never makes every other writer wait a bcrypt check (~0.25 s at cost 12).

What a caller may learn, and what stays inside:

- ``invalid_cpf``: the check digits are wrong. Decided before any database look-up; anyone can
  compute check digits, so saying so leaks nothing. It counts toward the call's 3 failures and the
  calling number's delay, never toward a contact's lock.
- ``failed``: unknown CPF, a contact with no password, or a wrong password. The same status and
  the same cost (the work of one bcrypt check of the configured cost) in every case: a wrong
  password on a hash cheaper than ``rounds`` is padded with dummy checks up to that work
  (``auth.passwords.password_matches``), so the time does not tell which CPFs exist.
- ``locked``: the contact is locked (5 failures in a row; 30 minutes), so even the right password
  is refused. Only the audit and the logs keep this apart from ``failed``: a view must speak
  ``LoginResult.speakable``, which says ``failed`` for it, so a caller cannot probe which CPFs exist
  or are locked.
- ``too_many_in_call``: this call has had 3 failures; the view explains option 7 and the portal's
  "Esqueci minha senha" and hangs up. Once there, the call gets no more password checks.

``delay_seconds`` is the pause before the answer, the larger of two:

- The calling number's: grows with the failures from that number (any CPF) within an hour: 0 for
  the first, then 2, 4, 8, 16, and 20 at most. A success does not reset it (a valid login must
  not buy an attacker on the same line a fresh start); it fades after an hour without failures.
  Callers who withhold their number share one count, under ``anonymous``.
- The line's (``auth.line_failures``): every password check on the line counts, and its
  refusal, any number, any CPF; while the refusals within 10 minutes exceed both 30 and half of
  the checks, every login on the line, by anyone, waits 2 s, doubling every 10 refusals more
  past what the line allows, up to 20 s. This is what slows password spraying (one common
  password against many CPFs, a few per call, each call from a new, forged number), which the
  call's, the CPF's and the number's limits each miss; the share keeps honest callers'
  mistyping on a busy line from slowing it. It is set on every result, ``ok`` too.

The view plays it as a TwiML ``<Pause>`` first, before the answer is spoken, so no server thread
sleeps. It must play it before a welcome as before a refusal: a pause heard only before refusals
would give the answer away (silence means "wrong", so hang up and try the next), and the sprayer
would skip it.

The lock, and denial of service. Five wrong passwords in a row lock the contact for 30 minutes
(``docs/rules.md#login``) whoever keyed them, so anyone who knows a CPF can lock its owner out
of phone login, and keep them out by keying 5 more every 30 minutes. The rule stays, because
the alternatives weaken the lock against guessing without stopping the lock-out:

- Counting distinct calling numbers (locking only when failures come from several numbers, or
  sparing the number the contact usually calls from): caller ID is forged at no cost, so an
  attacker presents the victim's own number, or as many numbers as the rule wants.
- Locking the caller instead of the contact: the per-number pause does that already, and forged
  numbers defeat it; a per-CPF lock is the one limit a sprayer or a guesser cannot step around.
- A shorter lock: gives a guesser more tries per hour against one CPF (5 per lock period).

What bounds the harm instead: locking a victim takes 5 wrong passwords for that CPF, at most 3
per call, each after the calling number's pause (and the line's, if the attacker also sprays);
each lock is a WARNING log line (``bad_password_locks``, masked CPF, calling number) and an audit
row, so a victim kept locked shows up as a lock every 30 minutes, and an admin can lift it at
once (``contacts unlock``) or set a new password; the locked caller still hears the same answer
as for a wrong password (nothing leaks), and is pointed to option 7 and the portal's "Esqueci
minha senha" after 3 tries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from auth import counters
from auth.documents import is_valid_cpf, mask_cpf, normalize_document
from auth.errors import InvalidCpfError, InvalidPasswordError, UnknownContactError
from auth.line_failures import observe_login
from auth.models import (
    CALL_SID_LENGTH,
    PHONE_LENGTH,
    CallLogin,
    Contact,
    LoginAttempt,
    first_name_of,
)
from auth.passwords import (
    DEFAULT_ROUNDS,
    PASSWORD_RULE,
    Pepper,
    hash_cost,
    hash_password,
    is_valid_password,
    password_matches,
    password_problem,
    pepper_id,
)

logger = logging.getLogger(__name__)

MAX_FAILURES_PER_CALL = 3
MAX_DELAY_SECONDS = 20
ANONYMOUS_CALLER = "anonymous"

LoginStatus = Literal["ok", "invalid_cpf", "failed", "locked", "too_many_in_call"]
SpeakableStatus = Literal["ok", "invalid_cpf", "failed", "too_many_in_call"]
# What the audit keeps: the true reason, finer than the status.
AuditResult = Literal[
    "ok",
    "invalid_cpf",
    "unknown_cpf",
    "no_password",
    "bad_password",
    "bad_password_locks",  # the failure that reached 5 and locked the contact
    "locked",
    "call_limit",  # an attempt after the call's 3 failures: refused unchecked
]


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    failures_in_call: int
    # pause before the answer, whatever it is (ok too): the number's and the line's slowdowns
    delay_seconds: int = 0
    # set only when status == "ok"
    contact_id: int | None = None
    company_id: int | None = None
    first_name: str | None = None
    # the audited reason (``AuditResult``), finer than ``status``: for metrics only, so left
    # out of comparisons (an unknown CPF's result equals a wrong password's)
    reason: AuditResult | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def speakable(self) -> SpeakableStatus:
        """What the caller may be told: a locked contact sounds exactly like a wrong password."""
        return "failed" if self.status == "locked" else self.status


@dataclass(frozen=True)
class LoginInfo:
    contact_id: int
    company_id: int
    first_name: str
    logged_in_at: datetime


def caller_delay_seconds(failures_from_caller: int) -> int:
    """Pause before the next prompt after the n-th failure from one number within the window."""
    if failures_from_caller < 2:
        return 0
    return min(2 ** (failures_from_caller - 1), MAX_DELAY_SECONDS)


def _caller_key(caller: str | None) -> str:
    cleaned = (caller or "").strip()
    return cleaned[:PHONE_LENGTH] if cleaned else ANONYMOUS_CALLER


def _check_call_sid(call_sid: str) -> None:
    if not 0 < len(call_sid) <= CALL_SID_LENGTH:
        raise ValueError(f"call_sid must have 1 to {CALL_SID_LENGTH} characters")


def _audit(
    session: Session,
    *,
    result: AuditResult,
    cpf: str,
    contact_id: int | None,
    caller: str,
    call_sid: str,
    now: datetime,
) -> None:
    masked = mask_cpf(cpf)
    session.add(
        LoginAttempt(
            at=now,
            masked_cpf=masked,
            contact_id=contact_id,
            caller=caller,
            call_sid=call_sid,
            result=result,
        )
    )
    log = logger.warning if result in {"bad_password_locks", "call_limit"} else logger.info
    log("login %s call_sid=%s cpf=%s caller=%s", result, call_sid, masked, caller)


@dataclass(frozen=True)
class LoginCheck:
    """What ``check_login`` read and worked out, bcrypt included: all ``record_login`` needs.

    Holds the CPF as keyed (for the masked audit) and, after a good password on a cheaper hash,
    the replacement hash; never the password.
    """

    call_sid: str
    caller: str  # the key the per-number count goes under (``anonymous`` when withheld)
    cpf: str = field(repr=False)
    now: datetime
    failures_so_far: int
    cpf_valid: bool = False
    contact_id: int | None = None
    company_id: int | None = None
    name: str = field(default="", repr=False)
    has_password: bool = False
    locked_until: datetime | None = None
    matched: bool = False
    # set when the good password's hash is not at ``rounds`` with the configured pepper:
    # (stored hash, replacement, the replacement's pepper id)
    upgrade: tuple[str, str, str | None] | None = field(default=None, repr=False)


def verify_login(
    session: Session,
    *,
    cpf: str,
    password: str,
    call_sid: str,
    caller: str | None,
    now: datetime,
    rounds: int = DEFAULT_ROUNDS,
    pepper: Pepper | None = None,
) -> LoginResult:
    """Checks a CPF and password keyed on call ``call_sid`` from number ``caller``.

    ``password`` is ignored when the CPF is invalid, so a view may call this right after the
    CPF is keyed to refuse a bad one early. ``check_login`` then ``record_login``: a caller that
    must not hold a write lock during bcrypt (SQLite's is database-wide) calls the two itself,
    with no write before the first.
    """
    check = check_login(session, cpf=cpf, password=password, call_sid=call_sid, caller=caller,
                        now=now, rounds=rounds, pepper=pepper)
    return record_login(session, check)


def check_login(
    session: Session,
    *,
    cpf: str,
    password: str,
    call_sid: str,
    caller: str | None,
    now: datetime,
    rounds: int = DEFAULT_ROUNDS,
    pepper: Pepper | None = None,
) -> LoginCheck:
    """The slow half of ``verify_login``: reads, then runs bcrypt; writes nothing.

    The work of one bcrypt check of cost ``rounds`` whatever the case (unknown CPF, no password,
    locked, wrong password; a refusal on a cheaper hash is padded up to it), none for an invalid
    CPF or a call already at its limit. A right password on a cheaper hash costs its own check,
    unpadded, plus the hashing of its replacement.
    """
    _check_call_sid(call_sid)
    check = LoginCheck(
        call_sid=call_sid,
        caller=_caller_key(caller),
        cpf=cpf,
        now=now,
        failures_so_far=session.scalar(
            select(CallLogin.failures).where(CallLogin.call_sid == call_sid)
        ) or 0,
    )
    if check.failures_so_far >= MAX_FAILURES_PER_CALL:
        return check
    digits = normalize_document(cpf)
    if not is_valid_cpf(digits):
        return check

    contact = session.execute(
        select(
            Contact.id, Contact.company_id, Contact.name, Contact.password_hash,
            Contact.password_pepper, Contact.locked_until,
        ).where(Contact.cpf == digits)
    ).one_or_none()
    password_hash = contact.password_hash if contact is not None else None
    stored_pepper = contact.password_pepper if contact is not None else None
    hash_pepper = pepper if stored_pepper is not None else None
    if contact is not None and stored_pepper is not None and stored_pepper != pepper_id(pepper):
        # Made with a pepper this server does not hold (PASSWORD_PEPPER unset or changed):
        # it cannot match, and checks the dummy instead, so the refusal costs the same.
        logger.error("contact %s: password hash made with another pepper (%s); set the "
                     "PASSWORD_PEPPER it was made with, or a new password", contact.id,
                     stored_pepper)
        password_hash = None
    # one bcrypt check whatever the case, so every refusal takes the same time
    matched = password_matches(password, password_hash, rounds=rounds, pepper=hash_pepper)
    if contact is None:
        return replace(check, cpf_valid=True)
    upgrade = None
    locked = contact.locked_until is not None and contact.locked_until > now
    # A hash of another cost is rehashed at the configured one, cheaper or costlier: a costlier
    # one (BCRYPT_ROUNDS lowered since) would make this contact's refusals slower than an
    # unknown CPF's, which padding cannot even out. A hash without the configured pepper is
    # rehashed with it.
    if matched and not locked and password_hash is not None and (
            hash_cost(password_hash) != rounds or stored_pepper != pepper_id(pepper)):
        upgrade = (password_hash, hash_password(password, rounds, pepper), pepper_id(pepper))
    return replace(
        check,
        cpf_valid=True,
        contact_id=contact.id,
        company_id=contact.company_id,
        name=contact.name,
        has_password=contact.password_hash is not None,
        locked_until=contact.locked_until,
        matched=matched,
        upgrade=upgrade,
    )


def record_login(session: Session, check: LoginCheck) -> LoginResult:
    """The quick half of ``verify_login``: the writes its answer takes, and that answer.

    Counters, lock, the call's login, the audit row and a hash upgrade, each counter by one atomic
    statement (a lock set by a concurrent attempt since ``check_login`` read the contact is
    honoured). Commit soon after: no bcrypt runs here.
    """
    now = check.now

    def audit(result: AuditResult, contact_id: int | None = None) -> None:
        _audit(session, result=result, cpf=check.cpf, contact_id=contact_id,
               caller=check.caller, call_sid=check.call_sid, now=now)

    def refuse(status: LoginStatus, result: AuditResult, contact_id: int | None) -> LoginResult:
        audit(result, contact_id)
        in_call = counters.record_call_failure(session, check.call_sid, now)
        from_caller = counters.record_caller_failure(session, check.caller, now)
        # last: the line's row of the minute is the one every failing login writes
        on_line = observe_login(session, now,
                                "unchecked" if result == "invalid_cpf" else "refused")
        return LoginResult(
            status="too_many_in_call" if in_call >= MAX_FAILURES_PER_CALL else status,
            failures_in_call=in_call,
            delay_seconds=max(caller_delay_seconds(from_caller), on_line.delay_seconds),
            reason=result,
        )

    if check.failures_so_far >= MAX_FAILURES_PER_CALL:
        audit("call_limit")
        return LoginResult(status="too_many_in_call", failures_in_call=check.failures_so_far,
                           reason="call_limit")
    if not check.cpf_valid:
        return refuse("invalid_cpf", "invalid_cpf", None)
    contact_id = check.contact_id
    if contact_id is None or check.company_id is None:
        return refuse("failed", "unknown_cpf", None)
    if not check.has_password:
        return refuse("failed", "no_password", contact_id)
    if check.locked_until is not None and check.locked_until > now:
        return refuse("locked", "locked", contact_id)
    if not check.matched:
        count = counters.record_contact_failure(session, contact_id, now)
        if count is None:  # locked by a concurrent attempt since we read it
            return refuse("locked", "locked", contact_id)
        locks = count >= counters.LOCK_THRESHOLD
        return refuse("failed", "bad_password_locks" if locks else "bad_password", contact_id)
    if not counters.clear_contact_failures(session, contact_id, now):
        return refuse("locked", "locked", contact_id)

    counters.bind_call_login(
        session, check.call_sid, contact_id=contact_id, company_id=check.company_id, now=now
    )
    if check.upgrade is not None:
        _store_upgrade(session, contact_id, *check.upgrade)
    audit("ok", contact_id)
    on_line = observe_login(session, now, "accepted")
    return LoginResult(
        status="ok",
        failures_in_call=check.failures_so_far,
        delay_seconds=on_line.delay_seconds,
        contact_id=contact_id,
        company_id=check.company_id,
        first_name=first_name_of(check.name),
        reason="ok",
    )


def _store_upgrade(session: Session, contact_id: int, old_hash: str, new_hash: str,
                   new_pepper: str | None) -> None:
    """Stores the rehash at the configured cost and pepper, unless the password changed
    meanwhile."""
    session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.password_hash == old_hash)
        .values(password_hash=new_hash, password_pepper=new_pepper)
        .execution_options(synchronize_session=False)
    )
    logger.info("password hash of contact %s upgraded to cost %s%s", contact_id,
                hash_cost(new_hash), " with the pepper" if new_pepper else "")


def current_login(session: Session, call_sid: str) -> LoginInfo | None:
    """Who is logged in on this call, if anyone."""
    row = session.execute(
        select(CallLogin.contact_id, CallLogin.company_id, CallLogin.logged_in_at, Contact.name)
        .join(Contact, Contact.id == CallLogin.contact_id)
        .where(CallLogin.call_sid == call_sid)
    ).one_or_none()
    if row is None or row.company_id is None or row.logged_in_at is None:
        return None
    return LoginInfo(
        contact_id=row.contact_id,
        company_id=row.company_id,
        first_name=first_name_of(row.name),
        logged_in_at=row.logged_in_at,
    )


def end_call(session: Session, call_sid: str) -> None:
    """Forgets the call's login and failures (the provider's status callback calls this)."""
    session.execute(delete(CallLogin).where(CallLogin.call_sid == call_sid))


def _contact_by_cpf(session: Session, cpf: str) -> Contact:
    digits = normalize_document(cpf)
    if not is_valid_cpf(digits):
        raise InvalidCpfError(f"{mask_cpf(cpf)} is not a valid CPF")
    contact = session.scalar(select(Contact).where(Contact.cpf == digits))
    if contact is None:
        raise UnknownContactError(f"no contact with CPF {mask_cpf(digits)}")
    return contact


def set_password(
    session: Session, cpf: str, password: str, *, now: datetime, rounds: int = DEFAULT_ROUNDS,
    pepper: Pepper | None = None,
) -> None:
    """Sets a contact's phone password; this also clears its failures and any lock.

    Refuses a password that is not 4 to 12 digits, then (once the contact is found) one too easy
    to guess (``auth.passwords.password_problem``: one digit repeated, a run, the CPF's digits).
    """
    if not is_valid_password(password):
        raise InvalidPasswordError(f"the password {PASSWORD_RULE}")
    contact = _contact_by_cpf(session, cpf)
    problem = password_problem(password, contact.cpf)
    if problem is not None:
        raise InvalidPasswordError(f"the password {problem}")
    contact.replace_password_hash(hash_password(password, rounds, pepper), now, pepper_id(pepper))
    logger.info("password set for contact %s (cpf %s)", contact.id, mask_cpf(contact.cpf))


def unlock(session: Session, cpf: str) -> None:
    """Clears a contact's failures and lock."""
    contact = _contact_by_cpf(session, cpf)
    contact.failed_attempts = 0
    contact.locked_until = None
    logger.info("contact %s (cpf %s) unlocked", contact.id, mask_cpf(contact.cpf))
