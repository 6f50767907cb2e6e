"""Phone passwords: the format rule, the passwords too easy to set, and bcrypt hashing. Pure apart
from bcrypt's CPU cost.

A password an admin sets (``contacts set-password``) or an import gives must be 4 to 12 digits and
not one an attacker tries first (``password_problem``):

- one digit repeated: ``0000``, ``999999``;
- consecutive digits up or down, going round from 9 to 0 as a keypad's top row reads:
  ``1234``, ``654321``, ``0123456789``, ``7890``, ``3210``;
- digits of the contact's own CPF: any run of 4 or more of its 11 digits (its first or last
  digits, or any other stretch). The caller keys the CPF just before the password, so whoever
  tries a CPF holds these; it rules out 8 of the 10,000 four-digit passwords.

Passwords already stored keep working: the rule applies when a password is set, not at login.

The pepper (``PASSWORD_PEPPER``, docs/rules.md#password-storage): a server-side secret kept out
of the database. With one, bcrypt hashes not the digits but ``base64(HMAC-SHA256(pepper,
digits))`` (44 ASCII bytes, within bcrypt's 72), so a stolen copy of the contacts table alone
cannot be tried offline: 10^4 to 10^12 PINs are few, 2^256 peppers are not. Each contact row
names the pepper its hash was made with (``Pepper.id``, NULL for a hash of the digits alone,
which keeps working and is rehashed with the pepper at the next good login).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import pairwise

import bcrypt

from auth.check_slots import CheckSlots

DEFAULT_ROUNDS = 12
MIN_ROUNDS = 4
MAX_ROUNDS = 31
# The costliest hash a login will check (unless BCRYPT_ROUNDS is set higher still): each step
# doubles the time, so 14 is ~1 s where 12 is ~0.25 s, and a cost-31 hash would take days.
MAX_CHECKED_ROUNDS = 14
# The cheapest bcrypt hash an import may give: OWASP's floor for bcrypt's work factor. Only
# tests configure BCRYPT_ROUNDS lower (4, for speed; the environment cannot), and there the floor
# is the configured cost: see ``importable_costs``.
MIN_IMPORTED_ROUNDS = 10
PASSWORD_RULE = "must be 4 to 12 digits"  # noqa: S105 - the rule, not a secret

_PASSWORD = re.compile(r"[0-9]{4,12}")
_BCRYPT_HASH = re.compile(r"\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}")
# Checked instead of a password that cannot be right, so a refusal always costs one bcrypt check.
_STAND_IN_PASSWORD = b"not-a-phone-password"
# Checked against dummy hashes only to spend time (see ``password_matches``); the result is unused.
_PADDING_PASSWORD = b"padding"


PEPPER_ID_LENGTH = 16


@dataclass(frozen=True)
class Pepper:
    """The server-side secret mixed into every password before bcrypt."""

    key: bytes = field(repr=False)

    @cached_property
    def id(self) -> str:
        """Names this pepper in the contacts table without revealing it (an HMAC of a constant):
        a hash is checked only with the pepper it was made with."""
        return hmac.new(self.key, b"ivr password pepper id", hashlib.sha256).hexdigest()[
            :PEPPER_ID_LENGTH]

    def apply(self, secret: bytes) -> bytes:
        return base64.b64encode(hmac.digest(self.key, secret, "sha256"))


def pepper_id(pepper: Pepper | None) -> str | None:
    """What a contact row stores beside a hash made with ``pepper`` (None: no pepper)."""
    return pepper.id if pepper is not None else None


def _secret(password: bytes, pepper: Pepper | None) -> bytes:
    return pepper.apply(password) if pepper is not None else password


def is_valid_password(password: str) -> bool:
    """The format rule only (4 to 12 digits); see ``password_problem`` for what may be set."""
    return _PASSWORD.fullmatch(password) is not None


def _too_easy(password: str, cpf: str | None) -> str | None:
    if len(set(password)) == 1:
        return "one digit repeated, like 0000"
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(password)}
    if steps in ({1}, {9}):
        return "consecutive digits, like 1234, 7890 or 4321"
    if cpf and password in cpf:
        return "digits of the contact's own CPF"
    return None


def password_problem(password: str, cpf: str | None = None) -> str | None:
    """Why ``password`` may not be set for the contact with CPF ``cpf`` (11 digits; None when not
    known), completing "the password ..."; None when it may."""
    if not is_valid_password(password):
        return PASSWORD_RULE
    reason = _too_easy(password, cpf)
    return f"is too easy to guess ({reason})" if reason is not None else None


def looks_like_bcrypt_hash(value: str) -> bool:
    return _BCRYPT_HASH.fullmatch(value) is not None


def hash_cost(password_hash: str) -> int:
    """The work factor of a bcrypt hash (``$2b$12$...`` -> 12)."""
    return int(password_hash.split("$")[2])


def _salt(rounds: int) -> bytes:
    if not MIN_ROUNDS <= rounds <= MAX_ROUNDS:
        raise ValueError(f"bcrypt rounds must be {MIN_ROUNDS} to {MAX_ROUNDS}, not {rounds}")
    return bcrypt.gensalt(rounds)


def hash_password(password: str, rounds: int, pepper: Pepper | None = None) -> str:
    """The bcrypt hash of the password (peppered when ``pepper`` is given: store
    ``pepper_id(pepper)`` with it)."""
    if not is_valid_password(password):
        raise ValueError(f"password {PASSWORD_RULE}")
    return bcrypt.hashpw(_secret(password.encode("ascii"), pepper), _salt(rounds)).decode("ascii")


@lru_cache(maxsize=MAX_ROUNDS - MIN_ROUNDS + 1)
def dummy_hash(rounds: int) -> str:
    """A hash of the given cost that no phone password matches (computed once per process)."""
    return bcrypt.hashpw(_STAND_IN_PASSWORD, _salt(rounds)).decode("ascii")


def importable_costs(rounds: int) -> range:
    """The costs a ``password_hash`` given to the import may have when BCRYPT_ROUNDS is
    ``rounds``: from OWASP's floor (``MIN_IMPORTED_ROUNDS``, 10; or ``rounds`` itself when lower,
    which only tests configure) up to ``rounds``.

    Cheaper hashes are upgraded at the contact's next good login, and until then a wrong
    password costs the same as any other thanks to ``password_matches``' padding; but below 10
    a stolen copy of the hash is too cheap to crack, so it is not taken at all. A costlier hash
    would make each of the contact's refusals slower than an unknown CPF's: the time would tell
    that the CPF exists.
    """
    return range(min(MIN_IMPORTED_ROUNDS, rounds), rounds + 1)


def too_costly(password_hash: str, rounds: int = DEFAULT_ROUNDS) -> bool:
    """True for a hash a login refuses to check: costlier than 14 and than ``rounds``."""
    return hash_cost(password_hash) > max(MAX_CHECKED_ROUNDS, rounds)


def password_matches(password: str, password_hash: str | None, *, rounds: int,
                     pepper: Pepper | None = None) -> bool:
    """True when ``password`` is well formed and matches ``password_hash``, made with ``pepper``
    (the one its row names; None for a hash of the digits alone). The pepper's HMAC costs about
    a microsecond: nothing beside bcrypt, so every case below keeps its time.

    A refusal costs the time of one bcrypt check of cost ``rounds``, whatever is stored, so the
    time cannot tell an unknown CPF from a known one. Without a hash, the check is against
    ``dummy_hash(rounds)``. A malformed password (letters, 10,000 digits) is checked as a
    stand-in, since bcrypt refuses over 72 bytes. A hash too costly to check (``too_costly``: the
    importer refuses those, but one may be written by hand) never matches and costs the dummy's
    check instead of hanging the worker. A stored hash cheaper than ``rounds`` (cost ``c``, left
    from before ``BCRYPT_ROUNDS`` was raised, upgraded at the next good login) that does not
    match is followed by dummy checks of costs ``c``, ``c + 1``, ..., ``rounds - 1``: bcrypt's
    work doubles with each cost step, and 2^c + (2^c + 2^(c+1) + ... + 2^(rounds-1)) = 2^rounds,
    so the refusal costs what one check at ``rounds`` costs. (A good password is not padded:
    its answer tells the caller more than its time.) A hash costlier than ``rounds`` but not
    too costly takes longer than a refusal of an unknown CPF; the importer refuses those.
    """
    usable = password_hash is not None and not too_costly(password_hash, rounds)
    well_formed = is_valid_password(password)
    candidate = _secret(password.encode("ascii") if well_formed else _STAND_IN_PASSWORD, pepper)
    target = password_hash if usable and password_hash is not None else dummy_hash(rounds)
    with _check_slot():
        matched = bcrypt.checkpw(candidate, target.encode("ascii")) and well_formed and usable
        if not matched:
            for cost in range(hash_cost(target), rounds):
                bcrypt.checkpw(_PADDING_PASSWORD, dummy_hash(cost).encode("ascii"))
    return matched


_slots: CheckSlots | None = None


def limit_checks(slots: CheckSlots | None) -> None:
    """Every check of this process from now on runs in one of ``slots`` (``PASSWORD_CHECK_SLOTS``;
    None: no limit). Set once by the app factory."""
    global _slots
    _slots = slots


def _check_slot() -> AbstractContextManager[None]:
    return _slots.held() if _slots is not None else nullcontext()
