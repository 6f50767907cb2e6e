"""The changes a caller (or the expiry job) may make to a ticket. Reads are in ``lookup``.

Every function takes the session from its caller (a view, a CLI command), who commits or rolls
back, and the current time, so tests and jobs control the clock. Each change is flushed at once,
so a conflicting change by another caller or instance surfaces here as ``TicketConflict``, and
each writes a ``TicketEvent``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from database.upsert import upsert
from tickets import deadlines
from tickets.enums import ClosedHow, EventKind, TicketStatus
from tickets.models import NUMBER_LENGTH, Ticket, TicketEvent, VoiceMessageSlot

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


def _event(
    ticket: Ticket,
    kind: EventKind,
    now: datetime,
    *,
    contact_id: int | None = None,
    call_sid: str | None = None,
    recording_url: str | None = None,
    solution_at: datetime | None = None,
    detail: str = "",
) -> TicketEvent:
    return TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        contact_id=contact_id,
        call_sid=call_sid,
        recording_url=recording_url,
        solution_at=solution_at,
        detail=detail,
        at=now,
    )


def _flush_with(session: Session, event: TicketEvent) -> TicketEvent:
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
    return _flush_with(
        session,
        _event(ticket, EventKind.ACCEPTED, now, contact_id=contact_id, call_sid=call_sid,
               solution_at=ticket.solution_at),
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
    return _flush_with(
        session,
        _event(
            ticket, EventKind.POSTPONED, now, contact_id=contact_id, call_sid=call_sid,
            solution_at=ticket.solution_at, detail=detail,
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
    rejected = ticket.solution_at
    assert rejected is not None  # can_reject requires a solution
    detail = f"solution of {rejected.astimezone(UTC).isoformat()} rejected"
    if ticket.postponed:
        detail += " after its deadline was postponed"
    ticket.status = TicketStatus.IN_PROGRESS
    ticket.solution_at = None
    ticket.postponed = False
    return _flush_with(
        session,
        _event(
            ticket, EventKind.REJECTED, now, contact_id=contact_id, call_sid=call_sid,
            recording_url=recording_url, solution_at=rejected, detail=detail,
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
    return _flush_with(
        session,
        _event(
            ticket, EventKind.VOICE_MESSAGE, now, contact_id=contact_id, call_sid=call_sid,
            recording_url=recording_url, detail=detail,
        ),
    )


# A recording ends within minutes of the offer; a slot older than this belongs to a call whose
# recording never came.
SLOT_FOR = timedelta(hours=1)


def offer_voice_message(session: Session, call_sid: str, ticket_id: int,
                        contact_id: int | None, now: datetime) -> None:
    """This call may leave one recorded message on this ticket (a later offer replaces it)."""
    session.execute(delete(VoiceMessageSlot).where(VoiceMessageSlot.offered_at < now - SLOT_FOR))
    values = {"ticket_id": ticket_id, "contact_id": contact_id, "offered_at": now}
    session.execute(upsert(session, VoiceMessageSlot).values(call_sid=call_sid, **values)
                    .on_conflict_do_update(index_elements=[VoiceMessageSlot.call_sid],
                                           set_=values))


def take_voice_message_slot(session: Session, call_sid: str, now: datetime
                            ) -> tuple[int, int | None] | None:
    """The (ticket id, contact id) this call was offered a message on, taken: a replayed
    callback finds nothing. None when there was no offer, or it is too old."""
    taken = session.execute(
        delete(VoiceMessageSlot)
        .where(VoiceMessageSlot.call_sid == call_sid)
        .returning(VoiceMessageSlot.ticket_id, VoiceMessageSlot.contact_id,
                   VoiceMessageSlot.offered_at)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if taken is None or taken.offered_at < now - SLOT_FOR:
        return None
    return taken.ticket_id, taken.contact_id


def _first_solution_from(
    session: Session, postponed: bool, lower: datetime | None
) -> datetime | None:
    """The earliest ``solution_at`` at or after ``lower`` among unanswered solutions."""
    statement = select(func.min(Ticket.solution_at)).where(
        Ticket.status == TicketStatus.SOLUTION_PROPOSED,
        Ticket.postponed == postponed,
    )
    if lower is not None:
        statement = statement.where(Ticket.solution_at >= lower)
    return session.scalar(statement)


def _expire_loaded(session: Session, ticket_ids: list[int]) -> None:
    """Objects of these tickets already in the session reload on next access."""
    for ticket_id in ticket_ids:
        loaded = session.identity_map.get(identity_key(Ticket, ticket_id))
        if loaded is not None:
            session.expire(loaded)


def expire_overdue(session: Session, now: datetime) -> int:
    """Records the automatic closing of every overdue ticket; returns how many were closed.

    ``closed_at`` is the deadline itself (the ticket counted as closed from then on, whenever
    this runs); each closing writes an ``auto_closed`` event stamped with the time it was
    recorded.

    Set-based: all unanswered solutions registered on one São Paulo day (and equally postponed
    or not) share one deadline, so each such group closes with one UPDATE over the index on
    (status, solution_at), oldest day first, until a day whose deadline is still ahead. The
    UPDATE re-checks status, day and ``postponed``, so a ticket a caller accepted, rejected or
    postponed meanwhile is left alone; it bumps ``version``, so a caller's change based on the
    row as it was before fails (``TicketConflict``) instead of reopening it.
    """
    closed = 0
    for postponed in (False, True):
        lower: datetime | None = None
        while (first := _first_solution_from(session, postponed, lower)) is not None:
            end = deadlines.deadline_for(first, postponed)
            if now < end:
                break  # later days have later deadlines
            day = deadlines.local_date(first)
            lower = deadlines.start_of_local_day(day + timedelta(days=1))
            statement = (
                update(Ticket)
                .where(
                    Ticket.status == TicketStatus.SOLUTION_PROPOSED,
                    Ticket.postponed == postponed,
                    Ticket.solution_at >= deadlines.start_of_local_day(day),
                    Ticket.solution_at < lower,
                )
                .values(
                    status=TicketStatus.CLOSED,
                    closed_at=end,
                    closed_how=ClosedHow.AUTOMATIC,
                    version=Ticket.version + 1,
                )
                .returning(Ticket.id, Ticket.solution_at)
                .execution_options(synchronize_session=False)
            )
            done = session.execute(statement).all()
            _expire_loaded(session, [ticket_id for ticket_id, _ in done])
            if done:
                detail = f"deadline {end.isoformat()}"
                session.execute(
                    insert(TicketEvent),
                    [
                        {"ticket_id": ticket_id, "kind": EventKind.AUTO_CLOSED, "contact_id": None,
                         "call_sid": None, "recording_url": None, "solution_at": solution_at,
                         "detail": detail, "at": now}
                        for ticket_id, solution_at in done
                    ],
                )
            closed += len(done)
    return closed
