"""The rules each package gives for its personal data, and running them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Delete, Update, or_
from sqlalchemy.orm import Session

# The retention settings (``RETENTION_<NAME>_DAYS``), by name.
RETENTIONS = ("calls", "logins", "recordings", "survey_comments")


@dataclass(frozen=True)
class Purge:
    """``run(session, cutoff)`` removes what is older than ``cutoff`` and returns how many rows
    it changed. Either kept for a retention setting (``retention``, one of ``RETENTIONS``) or,
    for rows that only serve a call or a window in progress, for a fixed ``age``."""

    name: str
    run: Callable[[Session, datetime], int]
    retention: str | None = None
    age: timedelta | None = None
    verb: str = "deleted"

    def __post_init__(self) -> None:
        if (self.retention is None) == (self.age is None):
            raise ValueError(f"{self.name}: give a retention setting or a fixed age")
        if self.retention is not None and self.retention not in RETENTIONS:
            raise ValueError(f"{self.name}: unknown retention {self.retention!r}")


@dataclass
class Person:
    """Who ``contacts forget`` erases, and what the packages found of them."""

    cpf: str  # 11 digits, checked
    contact_id: int | None = None
    call_sids: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)  # phone numbers they called from


def of_person(person: Person, call_sid: Any, contact_id: Any = None) -> ColumnElement[bool]:
    """Rows on one of the person's calls, or (given ``contact_id``, a column) of their
    contact."""
    mine: list[ColumnElement[bool]] = [call_sid.in_(person.call_sids)]
    if contact_id is not None and person.contact_id is not None:
        mine.append(contact_id == person.contact_id)
    return or_(*mine)


@dataclass(frozen=True)
class Erasure:
    """``gather`` adds to the person what this package knows links to them (their calls,
    numbers); ``erase`` removes or anonymises their data and returns how many rows it changed.
    Every gather runs first, then every erase in the reverse order of the rules, so the first
    rule (the contact itself) is erased last."""

    name: str
    erase: Callable[[Session, Person], int]
    gather: Callable[[Session, Person], None] | None = None
    verb: str = "erased"


@dataclass(frozen=True)
class Outcome:
    name: str
    rows: int
    verb: str
    note: str = ""

    def line(self) -> str:
        return f"{self.name}: {self.rows} {self.verb}{self.note}"


def changed(session: Session, statement: Update | Delete) -> int:
    """Runs an UPDATE or DELETE (no ORM objects kept in step); the rows it changed."""
    result = session.execute(statement, execution_options={"synchronize_session": False})
    assert isinstance(result, CursorResult)
    return int(result.rowcount or 0)


def purge(session: Session, rules: Sequence[Purge], retention_days: Mapping[str, int],
          now: datetime) -> list[Outcome]:
    """Every rule, in the caller's transaction."""
    done = []
    for rule in rules:
        if rule.retention is not None:
            days = retention_days[rule.retention]
            cutoff, note = now - timedelta(days=days), f" (older than {days} days)"
        else:
            assert rule.age is not None
            cutoff, note = now - rule.age, f" (older than {_age(rule.age)}, past use)"
        done.append(Outcome(rule.name, rule.run(session, cutoff), rule.verb, note))
    return done


def forget(session: Session, rules: Sequence[Erasure], cpf: str) -> list[Outcome]:
    """Every rule for the person with ``cpf`` (valid, digits only), in the caller's
    transaction. Running it again changes nothing more."""
    person = Person(cpf)
    for rule in rules:
        if rule.gather is not None:
            rule.gather(session, person)
    return [Outcome(rule.name, rule.erase(session, person), rule.verb)
            for rule in reversed(rules)]


def _age(age: timedelta) -> str:
    minutes = age // timedelta(minutes=1)
    if minutes % 60:
        return f"{minutes} minutes"
    return f"{minutes // 60} hours"
