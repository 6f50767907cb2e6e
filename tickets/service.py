"""Ticket look-up and the changes a caller may make to a ticket.

Every function takes the session from its caller (a view, a CLI command), who commits or rolls
back, and the current time, so tests and jobs control the clock. Each change is flushed at once,
so a conflicting change by another caller or instance surfaces here as ``TicketConflict``, and
each writes a ``TicketEvent``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.exc import StaleDataError

from tickets import deadlines
from tickets.enums import ClosedHow, EventKind, TicketStatus
from tickets.models import NUMBER_LENGTH, Ticket, TicketEvent

REASON_CONFLICT = "o chamado acabou de ser alterado; consulte o chamado de novo"


class TicketError(Exception):
    """A change to a ticket that did not happen; ``reason`` is a phrase the caller can hear."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TicketActionRefused(TicketError):
    """The support guide (§10) does not allow this change in the ticket's current state."""


class TicketConflict(TicketError):
    """Someone else changed the ticket first. The session's transaction must be rolled back."""

    def __init__(self) -> None:
        super().__init__(REASON_CONFLICT)


def is_ticket_number(number: str) -> bool:
    return len(number) == NUMBER_LENGTH and number.isascii() and number.isdigit()


def find_ticket_for_company(session: Session, number: str, company_id: int) -> Ticket | None:
    """The company's ticket with that number, specialist loaded, in one query.

    Another company's ticket gives None exactly like a missing one: both conditions are in the
    same query, so neither the answer nor its timing tells them apart.
    """
    if not is_ticket_number(number):
        return None
    statement = (
        select(Ticket)
        .options(joinedload(Ticket.specialist))
        .where(Ticket.number == number, Ticket.company_id == company_id)
    )
    return session.scalars(statement).one_or_none()


def _event(
    ticket: Ticket,
    kind: EventKind,
    now: datetime,
    *,
    contact_id: int | None = None,
    call_sid: str | None = None,
    recording_url: str | None = None,
    detail: str = "",
) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        contact_id=contact_id,
        call_sid=call_sid,
        recording_url=recording_url,
        detail=detail,
        at=now,
    )


def _commit_change(session: Session, event: TicketEvent) -> TicketEvent:
    session.add(event)
    try:
        session.flush()
    except StaleDataError as exc:
        raise TicketConflict() from exc
    return event


def _require(verdict: deadlines.Verdict) -> None:
    if not verdict.allowed:
        raise TicketActionRefused(verdict.reason)


def accept(
    session: Session, ticket: Ticket, contact_id: int | None, call_sid: str | None, now: datetime
) -> TicketEvent:
    """The caller accepts the proposed solution: the ticket closes as accepted."""
    _require(deadlines.can_accept(ticket, now))
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = now
    ticket.closed_how = ClosedHow.ACCEPTED
    return _commit_change(
        session, _event(ticket, EventKind.ACCEPTED, now, contact_id=contact_id, call_sid=call_sid)
    )


def postpone(
    session: Session, ticket: Ticket, contact_id: int | None, call_sid: str | None, now: datetime
) -> TicketEvent:
    """The one postponement: the deadline moves 45 calendar days later."""
    _require(deadlines.can_postpone(ticket, now))
    before = deadlines.deadline(ticket)
    ticket.postponed = True
    after = deadlines.deadline(ticket)
    assert before is not None and after is not None  # can_postpone requires a solution
    detail = f"deadline {before.isoformat()} -> {after.isoformat()}"
    return _commit_change(
        session,
        _event(
            ticket, EventKind.POSTPONED, now, contact_id=contact_id, call_sid=call_sid,
            detail=detail,
        ),
    )


def reject(
    session: Session,
    ticket: Ticket,
    contact_id: int | None,
    call_sid: str | None,
    now: datetime,
    recording_url: str | None,
) -> TicketEvent:
    """The solution does not solve it: back to ``in_progress`` with the caller's recorded reason.

    The rejected solution's acceptance window ends here: ``solution_at`` is cleared (the event
    keeps it) and the postponement is available again for the next solution.
    """
    _require(deadlines.can_reject(ticket, now))
    assert ticket.solution_at is not None  # can_reject requires a solution
    detail = f"solution_at {ticket.solution_at.astimezone(UTC).isoformat()}"
    if ticket.postponed:
        detail += ", postponed"
    ticket.status = TicketStatus.IN_PROGRESS
    ticket.solution_at = None
    ticket.postponed = False
    return _commit_change(
        session,
        _event(
            ticket, EventKind.REJECTED, now, contact_id=contact_id, call_sid=call_sid,
            recording_url=recording_url, detail=detail,
        ),
    )


def attach_voice_message(
    session: Session,
    ticket: Ticket,
    contact_id: int | None,
    call_sid: str | None,
    now: datetime,
    recording_url: str,
) -> TicketEvent:
    """A recorded message for the team on a ticket that is not closed. On a ticket awaiting the
    customer's answer, the message is that answer: the ticket goes back to ``in_progress``."""
    _require(deadlines.can_leave_message(ticket, now))
    detail = ""
    if ticket.status == TicketStatus.AWAITING_CUSTOMER:
        ticket.status = TicketStatus.IN_PROGRESS
        detail = "awaiting_customer -> in_progress"
    return _commit_change(
        session,
        _event(
            ticket, EventKind.VOICE_MESSAGE, now, contact_id=contact_id, call_sid=call_sid,
            recording_url=recording_url, detail=detail,
        ),
    )


def overdue_tickets(session: Session, now: datetime) -> list[Ticket]:
    """Solutions whose acceptance deadline has passed at ``now`` but whose closing is not
    recorded yet."""
    plain_cutoff, postponed_cutoff = deadlines.overdue_cutoffs(now)
    statement = (
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.SOLUTION_PROPOSED,
            Ticket.solution_at.is_not(None),
            or_(
                and_(Ticket.postponed == false(), Ticket.solution_at < plain_cutoff),
                Ticket.solution_at < postponed_cutoff,
            ),
        )
        .order_by(Ticket.id)
    )
    return [t for t in session.scalars(statement) if deadlines.is_overdue(t, now)]


def expire_overdue(session: Session, now: datetime) -> int:
    """Records the automatic closing of every overdue ticket; returns how many were closed.

    ``closed_at`` is the deadline itself (the ticket counted as closed from then on, whenever
    this runs); the event's time is when the closing was recorded.
    """
    closed = 0
    for ticket in overdue_tickets(session, now):
        end = deadlines.deadline(ticket)
        assert end is not None  # overdue implies a deadline
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = end
        ticket.closed_how = ClosedHow.AUTOMATIC
        session.add(
            _event(ticket, EventKind.AUTO_CLOSED, now, detail=f"deadline {end.isoformat()}")
        )
        closed += 1
    try:
        session.flush()
    except StaleDataError as exc:
        raise TicketConflict() from exc
    return closed
