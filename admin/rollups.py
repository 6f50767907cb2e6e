"""Counts of the calls and phone logins per hour, kept per UTC day once the day is over, and
the same counts made live from the calls and login tables for the hours no rollup holds yet.

A day is rolled up ``SETTLE`` after its end (a call lasts at most a few hours, and its status
callback comes when it ends). Rolling a day claims its ``rolled_days`` row first, in the same
transaction, so two instances never count a day twice. ``flask admins rollup`` rolls every day
due (run it daily from a timer); each console visit also rolls up to ``DAYS_PER_VISIT``.
Reports add what the rollups hold to what the calls table says for the days not rolled yet, so
they are right whether or not the rollups are current, only slower when not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.facts import call_facts
from admin.models import CallHour, LoginHour, NodeHour, RolledDay, TransferHour
from auth.models import LoginAttempt
from database.session import Database
from ivr.calls.models import Call

log = logging.getLogger(__name__)

SETTLE = timedelta(hours=6)
DAYS_PER_VISIT = 2


@dataclass
class Counts:
    """Calls, transfers and the funnel, by hour (UTC)."""

    calls: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)
    transfers: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)
    nodes: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)  # (.., measure)

    def add_groups(self, groups: Iterable[Any]) -> int:
        """Rows of ``call_groups``; returns the calls they hold."""
        total = 0
        for bucket, path, last_node, outcome, detail, transfer_result, n in groups:
            hour = as_utc_hour(bucket)
            facts = call_facts(path, last_node, outcome, detail, transfer_result)
            self.calls[hour, facts.outcome, facts.node] += n
            for team, result in facts.transfers:
                self.transfers[hour, team, result] += n
            for node in facts.reached:
                self.nodes[hour, node, "reached"] += n
            if facts.gave_up_at:
                self.nodes[hour, facts.gave_up_at, "gave_up"] += n
            if facts.retries_exhausted_at:
                self.nodes[hour, facts.retries_exhausted_at, "retries_exhausted"] += n
            total += n
        return total


def call_groups(session: Session, start: datetime, end: datetime) -> Iterable[Any]:
    """The calls that started in [start, end), counted by hour and by what ``call_facts``
    reads, in the database: a day of calls comes back as a few hundred rows. The part of a
    detail that is the call's own (a recording's URL, a ticket's number, the number dialled)
    is left out, so that records alike group together."""
    dialect = session.get_bind().dialect.name
    kind = Call.outcome
    detail = case(
        (kind.in_(("transferred", "voicemail")), node_part(Call.outcome_detail, dialect)),
        (kind.like("ticket\\_%", escape="\\"), literal("")),
        else_=Call.outcome_detail)
    hour = hour_bucket(Call.started_at, dialect)
    keys = (hour, Call.path, Call.last_node, Call.outcome, detail, Call.transfer_result)
    return session.execute(
        select(*keys, func.count())
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(*keys))


def login_groups(session: Session, start: datetime, end: datetime) -> Iterable[Any]:
    """(hour, result, attempts) of the phone logins in [start, end)."""
    hour = hour_bucket(LoginAttempt.at, session.get_bind().dialect.name)
    return session.execute(
        select(hour, LoginAttempt.result, func.count())
        .where(LoginAttempt.at >= start, LoginAttempt.at < end)
        .group_by(hour, LoginAttempt.result))


def hour_bucket(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC hour a time falls in (PostgreSQL: a timestamp; SQLite: its text)."""
    if dialect == "postgresql":
        return func.date_trunc("hour", column, "UTC")
    return func.strftime("%Y-%m-%d %H:00:00", column)


def as_utc_hour(bucket: datetime | str) -> datetime:
    if isinstance(bucket, str):
        bucket = datetime.fromisoformat(bucket)
    return bucket.replace(tzinfo=UTC) if bucket.tzinfo is None else bucket.astimezone(UTC)


def node_part(column: Any, dialect: str) -> ColumnElement[Any]:
    """What comes before the first ':' (all of it when there is none)."""
    if dialect == "postgresql":
        return func.split_part(column, ":", 1)
    return func.substr(column, 1, func.instr(column + ":", ":") - 1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def last_day_due(now: datetime) -> date:
    """The newest UTC day whose end is ``SETTLE`` ago."""
    return (now.astimezone(UTC) - SETTLE).date() - timedelta(days=1)


def days_due(session: Session, now: datetime) -> list[date]:
    first = session.scalar(select(func.min(Call.started_at)))
    if first is None:
        return []
    start, last = first.astimezone(UTC).date(), last_day_due(now)
    rolled = set(session.scalars(select(RolledDay.day).where(RolledDay.day >= start)))
    days = []
    day = start
    while day <= last:
        if day not in rolled:
            days.append(day)
        day += timedelta(days=1)
    return days


def roll_up(database: Database, now: datetime, max_days: int | None = None) -> list[date]:
    """Rolls up the days due, oldest first, each in its own transaction; returns those rolled."""
    with database.transaction() as session:
        due = days_due(session, now)
    done = []
    for day in due[:max_days] if max_days is not None else due:
        if roll_up_day(database, day, now):
            done.append(day)
    return done


def roll_up_day(database: Database, day: date, now: datetime) -> bool:
    """False when another instance rolled the day meanwhile."""
    try:
        with database.transaction() as session:
            claim = RolledDay(day=day, rolled_at=now, calls=0)
            session.add(claim)
            session.flush()  # the claim first: a second instance waits here, then fails
            counts = Counts()
            start, end = day_start(day), day_start(day + timedelta(days=1))
            claim.calls = counts.add_groups(call_groups(session, start, end))
            _write(session, counts)
            logins = [{"hour": as_utc_hour(hour), "result": result, "attempts": n}
                      for hour, result, n in login_groups(session, start, end)]
            if logins:
                session.execute(insert(LoginHour), logins)
    except IntegrityError:
        return False
    return True


def _write(session: Session, counts: Counts) -> None:
    if counts.calls:
        session.execute(insert(CallHour), [
            {"hour": hour, "outcome": outcome, "node": node, "calls": n}
            for (hour, outcome, node), n in counts.calls.items()])
    if counts.transfers:
        session.execute(insert(TransferHour), [
            {"hour": hour, "team": team, "result": result, "transfers": n}
            for (hour, team, result), n in counts.transfers.items()])
    funnel: dict[tuple[datetime, str], dict[str, int]] = {}
    for (hour, node, measure), n in counts.nodes.items():
        funnel.setdefault((hour, node), {"reached": 0, "gave_up": 0,
                                         "retries_exhausted": 0})[measure] = n
    if funnel:
        session.execute(insert(NodeHour), [
            {"hour": hour, "node": node, **measures} for (hour, node), measures in funnel.items()])
