"""Counts of the calls per hour, kept per UTC day once the day is over, and the same counts
made live from the calls table for the hours no rollup holds yet.

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

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin.facts import call_facts
from admin.models import CallHour, NodeHour, RolledDay, TransferHour
from database.session import Database
from ivr.calls.models import Call

log = logging.getLogger(__name__)

SETTLE = timedelta(hours=6)
DAYS_PER_VISIT = 2
_FETCH_BATCH = 5000


@dataclass
class Counts:
    """Calls, transfers and the funnel, by hour (UTC)."""

    calls: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)
    transfers: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)
    nodes: Counter[tuple[datetime, str, str]] = field(default_factory=Counter)  # (.., measure)

    def add_calls(self, rows: Iterable[Any]) -> int:
        """Rows of (started_at, path, last_node, outcome, outcome_detail, transfer_result)."""
        count = 0
        for started_at, path, last_node, outcome, detail, transfer_result in rows:
            hour = started_at.replace(minute=0, second=0, microsecond=0)  # UTC (UTCDateTime)
            facts = call_facts(path, last_node, outcome, detail, transfer_result)
            self.calls[hour, facts.outcome, facts.node] += 1
            for team, result in facts.transfers:
                self.transfers[hour, team, result] += 1
            for node in facts.reached:
                self.nodes[hour, node, "reached"] += 1
            if facts.gave_up_at:
                self.nodes[hour, facts.gave_up_at, "gave_up"] += 1
            if facts.retries_exhausted_at:
                self.nodes[hour, facts.retries_exhausted_at, "retries_exhausted"] += 1
            count += 1
        return count


def call_rows(session: Session, start: datetime, end: datetime) -> Iterable[Any]:
    """The columns the facts need, of the calls that started in [start, end), streamed."""
    statement = (
        select(Call.started_at, Call.path, Call.last_node, Call.outcome, Call.outcome_detail,
               Call.transfer_result)
        .where(Call.started_at >= start, Call.started_at < end)
        .execution_options(yield_per=_FETCH_BATCH)
    )
    return session.execute(statement)


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
            claim.calls = counts.add_calls(
                call_rows(session, day_start(day), day_start(day + timedelta(days=1))))
            _write(session, counts)
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
