"""Reminder calls about solutions awaiting acceptance (docs/rules.md#reminder-calls).

From 00:00 (São Paulo) of the 4th day before the deadline's day, the ticket's contact (or their
company's admin) gets one call, placed in business hours only. An unanswered call is retried on
a later business day, ``MAX_RETRIES`` times at most. Each attempt is claimed by inserting its
``ReminderCall`` row, committed, before the provider is asked: the unique constraint on
(ticket, solution, attempt) lets exactly one of any number of concurrent jobs place it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auth.models import Contact
from database.session import Database
from database.upsert import upsert
from ivr import engine
from ivr.menu import Menu
from ivr.schedule import status_at
from tickets import deadlines
from tickets.enums import TicketStatus
from tickets.flow import team_of
from tickets.models import ReminderCall, Ticket
from tickets.outbound import PlacementFailed

log = logging.getLogger(__name__)

MAX_RETRIES = 2  # an unanswered reminder is tried again on two later business days at most


class Placer(Protocol):
    def place(self, to: str, path: str, status_path: str) -> str: ...


@dataclass(frozen=True)
class DueReminder:
    ticket_id: int
    number: str
    area: str
    solution_at: datetime
    attempt: int
    contact_id: int
    phone: str


def _window(today: date, postponed: bool) -> tuple[datetime, datetime]:
    """The ``solution_at`` range of solutions whose reminder is due today and whose deadline
    has not passed: solution days D with D + 12 <= today < D + 16 (45 days later if postponed)."""
    later = deadlines.POSTPONE_DAYS if postponed else 0
    first = today - timedelta(days=deadlines.ACCEPT_DAYS + later)
    after = today - timedelta(days=deadlines.ACCEPT_DAYS - deadlines.REMINDER_DAYS + later)
    return deadlines.start_of_local_day(first), deadlines.start_of_local_day(after)


def _whom(session: Session, ticket: Ticket) -> tuple[int, str] | None:
    """The ticket's contact with a phone, else its company's admin with one."""
    own = session.get(Contact, ticket.contact_id) if ticket.contact_id is not None else None
    if own is not None and own.phone:
        return own.id, own.phone
    admin = session.execute(
        select(Contact.id, Contact.phone)
        .where(Contact.company_id == ticket.company_id, Contact.is_admin.is_(True),
               Contact.phone.is_not(None))
        .order_by(Contact.id).limit(1)).one_or_none()
    return (admin.id, admin.phone) if admin is not None else None


def next_attempt(calls: list[ReminderCall], today: date) -> int | None:
    """The attempt to place today for one solution, None when nothing is to be placed: it was
    answered (by a person or a machine), tried today already, or tried too often."""
    if not calls:
        return 1
    if any(call.answered_at is not None for call in calls):
        return None
    last = max(calls, key=lambda call: call.attempt)
    if last.attempt > MAX_RETRIES or deadlines.local_date(last.claimed_at) >= today:
        return None
    return last.attempt + 1


def due_reminders(session: Session, now: datetime) -> list[DueReminder]:
    today = deadlines.local_date(now)
    tickets: list[Ticket] = []
    for postponed in (False, True):
        first, after = _window(today, postponed)
        tickets += session.scalars(select(Ticket).where(
            Ticket.status == TicketStatus.SOLUTION_PROPOSED, Ticket.postponed == postponed,
            Ticket.solution_at >= first, Ticket.solution_at < after).order_by(Ticket.id))
    tickets = [ticket for ticket in tickets if deadlines.reminder_due(ticket, now)]
    earlier: dict[tuple[int, datetime], list[ReminderCall]] = {}
    if tickets:
        for call in session.scalars(select(ReminderCall).where(
                ReminderCall.ticket_id.in_([ticket.id for ticket in tickets]))):
            earlier.setdefault((call.ticket_id, call.solution_at), []).append(call)
    due = []
    for ticket in tickets:
        assert ticket.solution_at is not None  # reminder_due requires a solution
        attempt = next_attempt(earlier.get((ticket.id, ticket.solution_at), []), today)
        if attempt is None:
            continue
        whom = _whom(session, ticket)
        if whom is None:
            log.warning("ticket %s: a reminder is due but no contact has a phone", ticket.number)
            continue
        due.append(DueReminder(ticket.id, ticket.number, ticket.area, ticket.solution_at,
                               attempt, *whom))
    return due


def claim(session: Session, due: DueReminder, now: datetime) -> int | None:
    """The new reminder's id, or None when another job claimed this attempt first."""
    statement = upsert(session, ReminderCall).values(
        ticket_id=due.ticket_id, solution_at=due.solution_at, attempt=due.attempt,
        contact_id=due.contact_id, phone=due.phone, claimed_at=now, state="claimed",
    ).on_conflict_do_nothing(index_elements=["ticket_id", "solution_at", "attempt"])
    claimed: int | None = session.execute(statement.returning(ReminderCall.id)).scalar()
    return claimed


def in_business_hours(menu: Menu, area: str, now: datetime) -> bool:
    """The hours of the ticket's team, which a reminder's caller may ask to be put through to;
    for a team without hours, the line's first schedule."""
    team = team_of(menu, area)
    if team is not None and team.schedule:
        return engine.is_open(menu, team, now)
    schedule = next(iter(menu.schedules.values()), None)
    return schedule is None or status_at(schedule, now).open


def place_due(database: Database, menu: Menu, now: datetime, calls: Placer,
              answer_path: Callable[[int], str], status_path: str) -> Iterator[str]:
    """Places each due reminder; yields one line per call placed."""
    with database.transaction() as session:
        due = [item for item in due_reminders(session, now)
               if in_business_hours(menu, item.area, now)]
    for item in due:
        with database.transaction() as session:
            reminder_id = claim(session, item, now)
        if reminder_id is None:
            continue
        try:
            call_sid = calls.place(item.phone, answer_path(reminder_id), status_path)
        except PlacementFailed as exc:  # the attempt is spent; a later business day tries again
            with database.transaction() as session:
                session.execute(update(ReminderCall).where(ReminderCall.id == reminder_id)
                                .values(state="failed"))
            log.warning("ticket %s: reminder call not placed: %s", item.number, exc)
            continue
        with database.transaction() as session:
            session.execute(update(ReminderCall).where(ReminderCall.id == reminder_id)
                            .values(state="placed", call_sid=call_sid))
        yield f"{item.number}: reminder call {call_sid} to {item.phone} (attempt {item.attempt})"


def record_answer(session: Session, reminder: ReminderCall, call_sid: str, answered_by: str,
                  now: datetime) -> None:
    """A person or a machine answered: this solution's reminder is done."""
    if reminder.call_sid is None:  # answered before the job stored the provider's SID
        reminder.call_sid = call_sid
    if reminder.answered_at is None:
        reminder.answered_at = now
        reminder.answered_by = answered_by[:32]


def record_end(session: Session, call_sid: str, status: str) -> None:
    """The status callback's final status, for a reminder call (other calls match no row)."""
    session.execute(update(ReminderCall).where(ReminderCall.call_sid == call_sid)
                    .values(final_status=status[:32]))

