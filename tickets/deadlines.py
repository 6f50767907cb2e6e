"""The acceptance deadline of a proposed solution (``docs/rules.md#tickets``). Pure: the time is
always passed in, nothing here reads a clock or a database.

Definitions, all in São Paulo civil time (``America/Sao_Paulo``):

- Day D is the local date of ``solution_at``. The customer has 15 calendar days to accept: the
  *last day* is D+15 and the *deadline* is the end of that day, i.e. the instant 00:00 of D+16.
  The deadline is exclusive: at ``now < deadline`` the solution can still be accepted, at
  ``now >= deadline`` the ticket counts as closed automatically.
- A postponement (at most one, only while ``now < deadline``) moves the deadline 45 calendar days
  later: 00:00 of D+16+45, last day D+60.
- The reminder is due 4 days before the deadline, at 00:00 of (deadline's date - 4): from then on
  4 calendar days remain, today included.

Days are counted on the local calendar, not as multiples of 24 hours, so the rules hold across
any change of UTC offset.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from tickets.enums import ClosedHow, TicketStatus

SAO_PAULO = ZoneInfo("America/Sao_Paulo")

ACCEPT_DAYS = 15
REMINDER_DAYS = 4
POSTPONE_DAYS = 45

REASON_AUTO_CLOSED = (
    "o prazo de aceite já terminou e o chamado foi encerrado automaticamente; "
    "para continuar, é preciso abrir um novo chamado"
)
REASON_CLOSED = (
    "este chamado já está encerrado; para continuar, é preciso abrir um novo chamado"
)
REASON_NO_SOLUTION = "este chamado não tem solução registrada"
REASON_ALREADY_POSTPONED = "o prazo já foi prorrogado uma vez"


class DeadlineTicket(Protocol):
    """What the rules read of a ticket (the ORM model satisfies it, so does a plain dataclass)."""

    @property
    def status(self) -> str: ...

    @property
    def solution_at(self) -> datetime | None: ...

    @property
    def postponed(self) -> bool: ...

    @property
    def closed_at(self) -> datetime | None: ...

    @property
    def closed_how(self) -> str | None: ...


class Verdict(NamedTuple):
    """Whether an action is allowed; when not, ``reason`` is a Portuguese phrase for the caller."""

    allowed: bool
    reason: str = ""


class Closing(NamedTuple):
    at: datetime | None
    how: ClosedHow | None


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment


def local_date(moment: datetime) -> date:
    """The São Paulo calendar date of an instant."""
    return _aware(moment).astimezone(SAO_PAULO).date()


def start_of_local_day(day: date) -> datetime:
    """The instant 00:00 of ``day`` in São Paulo, as a UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=SAO_PAULO).astimezone(UTC)


def deadline_for(solution_at: datetime, postponed: bool) -> datetime:
    """The exclusive end of the acceptance window for a solution registered at ``solution_at``."""
    # Cached by the UTC instant: two local times that differ only in ``fold`` compare equal.
    return _deadline_for(_aware(solution_at).astimezone(UTC), postponed)


@lru_cache(maxsize=4096)  # asked several times per spoken ticket, always with the same answer
def _deadline_for(solution_at: datetime, postponed: bool) -> datetime:
    days = ACCEPT_DAYS + 1 + (POSTPONE_DAYS if postponed else 0)
    return start_of_local_day(local_date(solution_at) + timedelta(days=days))


def deadline(ticket: DeadlineTicket) -> datetime | None:
    """The ticket's current deadline, or None when no solution is registered."""
    if ticket.solution_at is None:
        return None
    return deadline_for(ticket.solution_at, ticket.postponed)


def last_day(ticket: DeadlineTicket) -> date | None:
    """The last São Paulo calendar day on which the solution can still be accepted."""
    end = deadline(ticket)
    if end is None:
        return None
    return local_date(end) - timedelta(days=1)


def reminder_at(ticket: DeadlineTicket) -> datetime | None:
    """When the reminder is due: 4 calendar days before the deadline."""
    end = deadline(ticket)
    if end is None:
        return None
    return start_of_local_day(local_date(end) - timedelta(days=REMINDER_DAYS))


def days_remaining(ticket: DeadlineTicket, now: datetime) -> int | None:
    """Calendar days (São Paulo) on which the solution can still be accepted, today included:
    4 when the reminder falls due, 1 on the last day, 0 once the deadline has passed."""
    end = deadline(ticket)
    if end is None:
        return None
    if _aware(now) >= end:
        return 0
    return (local_date(end) - local_date(now)).days


def is_awaiting_acceptance(ticket: DeadlineTicket) -> bool:
    return ticket.status == TicketStatus.SOLUTION_PROPOSED and ticket.solution_at is not None


def is_overdue(ticket: DeadlineTicket, now: datetime) -> bool:
    """A proposed solution whose deadline has passed: the ticket counts as closed already."""
    if not is_awaiting_acceptance(ticket):
        return False
    end = deadline(ticket)
    return end is not None and _aware(now) >= end


def reminder_due(ticket: DeadlineTicket, now: datetime) -> bool:
    if not is_awaiting_acceptance(ticket) or is_overdue(ticket, now):
        return False
    due = reminder_at(ticket)
    return due is not None and _aware(now) >= due


def effective_status(ticket: DeadlineTicket, now: datetime) -> TicketStatus:
    """The status a caller must hear at ``now``: an overdue solution is already closed, even if
    no job has recorded the closing yet."""
    if is_overdue(ticket, now):
        return TicketStatus.CLOSED
    return TicketStatus(ticket.status)


def effective_closing(ticket: DeadlineTicket, now: datetime) -> Closing | None:
    """When and how the ticket closed as of ``now``, or None while it is still open.

    An automatic closing happened at the deadline instant, whether or not it was recorded.
    """
    if is_overdue(ticket, now):
        return Closing(deadline(ticket), ClosedHow.AUTOMATIC)
    if ticket.status != TicketStatus.CLOSED:
        return None
    how = ClosedHow(ticket.closed_how) if ticket.closed_how is not None else None
    return Closing(ticket.closed_at, how)


class Choices(NamedTuple):
    """What a caller may do with a ticket at one instant (``choices``)."""

    leave_message: Verdict
    accept: Verdict
    postpone: Verdict
    reject: Verdict


def choices(ticket: DeadlineTicket, now: datetime) -> Choices:
    """Every ``can_*`` verdict at once, from one look at the deadline (a ticket's menu asks
    all four on every hearing)."""
    closing = effective_closing(ticket, now)
    answer = _answer_solution(ticket, closing)
    return Choices(_leave_message(closing), answer, _postpone(ticket, answer), answer)


def _closed_reason(closing: Closing) -> Verdict:
    if closing.how is ClosedHow.AUTOMATIC:
        return Verdict(False, REASON_AUTO_CLOSED)
    return Verdict(False, REASON_CLOSED)


def _answer_solution(ticket: DeadlineTicket, closing: Closing | None) -> Verdict:
    if closing is not None:
        return _closed_reason(closing)
    if not is_awaiting_acceptance(ticket):
        return Verdict(False, REASON_NO_SOLUTION)
    return Verdict(True)


def _postpone(ticket: DeadlineTicket, answer: Verdict) -> Verdict:
    if not answer.allowed:
        return answer
    if ticket.postponed:
        return Verdict(False, REASON_ALREADY_POSTPONED)
    return Verdict(True)


def _leave_message(closing: Closing | None) -> Verdict:
    """A voice message may be left on any ticket that is not closed (effectively)."""
    return Verdict(True) if closing is None else _closed_reason(closing)


def can_accept(ticket: DeadlineTicket, now: datetime) -> Verdict:
    return _answer_solution(ticket, effective_closing(ticket, now))


def can_reject(ticket: DeadlineTicket, now: datetime) -> Verdict:
    return _answer_solution(ticket, effective_closing(ticket, now))


def can_postpone(ticket: DeadlineTicket, now: datetime) -> Verdict:
    return _postpone(ticket, _answer_solution(ticket, effective_closing(ticket, now)))


def can_leave_message(ticket: DeadlineTicket, now: datetime) -> Verdict:
    """A voice message may be left on any ticket that is not closed (effectively)."""
    return _leave_message(effective_closing(ticket, now))
