"""How a ticket is read: every read of a ticket is here.

- ``caller_and_ticket``: the ticket webhooks' read, on every ticket step. Who is logged in on the
  call and their company's ticket with the keyed number, in one indexed query, as frozen values
  (``TicketView``) rather than ORM objects: the busiest database read of the line.
- ``ticket_by_number``: the same values for a callback that comes after the call ended (its
  login is gone), whose signed URL names the ticket.
- ``ticket_to_change``: the ORM object of a ticket read above, loaded only to change it through
  ``tickets.service`` (optimistic locking, events), in the session that will commit the change.

Reads go through ``Database.reading()``, a pooled connection outside any transaction: one
round trip, nothing held open, and the pool's handling of a lost server (the read that meets it
fails, the pool replaces the other connections of that server as they are next used). Changes
load the ORM object in the session that commits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, and_, bindparam, select
from sqlalchemy.orm import Session

from auth.models import CallLogin
from database.session import Database
from tickets.models import Specialist, Ticket


@dataclass(frozen=True)
class SpecialistView:
    name: str
    phone: str


@dataclass(frozen=True)
class TicketView:
    """What the caller hears and the rules need of a ticket (``speech`` and ``deadlines``
    protocols)."""

    id: int
    number: str
    area: str
    status: str
    summary: str
    solution_at: datetime | None
    postponed: bool
    closed_at: datetime | None
    closed_how: str | None
    specialist: SpecialistView | None


@dataclass(frozen=True)
class Caller:
    contact_id: int
    company_id: int


# The columns of a TicketView, in its order, then its specialist's.
_TICKET_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.area, Ticket.status, Ticket.summary, Ticket.solution_at,
    Ticket.postponed, Ticket.closed_at, Ticket.closed_how, Specialist.name, Specialist.phone,
)

# Built once, with the values bound at each call: this is the busiest read of the line. Both of
# the ticket's conditions are in its join, so another company's ticket is exactly a missing one
# (same answer, same plan: the unique index on number).
_CALLER_AND_TICKET = (
    select(CallLogin.contact_id, CallLogin.company_id, *_TICKET_COLUMNS)
    .select_from(CallLogin)
    .outerjoin(Ticket, and_(Ticket.company_id == CallLogin.company_id,
                            Ticket.number == bindparam("number")))
    .outerjoin(Specialist, Specialist.id == Ticket.specialist_id)
    .where(CallLogin.call_sid == bindparam("call_sid"), CallLogin.company_id.is_not(None),
           CallLogin.logged_in_at.is_not(None))
)

_TICKET_BY_NUMBER = (
    select(*_TICKET_COLUMNS)
    .outerjoin(Specialist, Specialist.id == Ticket.specialist_id)
    .where(Ticket.number == bindparam("number"))
)


def caller_and_ticket(
    database: Database, call_sid: str, number: str
) -> tuple[Caller, TicketView | None] | None:
    """None when nobody is logged in on the call; else the caller and the ticket, if theirs."""
    row = _first(database, _CALLER_AND_TICKET, {"call_sid": call_sid, "number": number})
    if row is None:
        return None
    contact_id, company_id, *ticket = tuple(row)
    return Caller(contact_id, company_id), _view(ticket)


def ticket_by_number(database: Database, number: str) -> TicketView | None:
    """The ticket with this number, whoever's it is: only for a number from a signed URL."""
    row = _first(database, _TICKET_BY_NUMBER, {"number": number})
    return None if row is None else _view(row)


def ticket_to_change(session: Session, ticket: TicketView) -> Ticket | None:
    """The ORM object of a ticket read here, to change it (None if it was deleted since)."""
    return session.get(Ticket, ticket.id)


def _first(database: Database, statement: Executable, values: dict[str, str]
           ) -> Row[Any] | None:
    with database.reading() as connection:
        return connection.execute(statement, values).first()


def _view(row: Any) -> TicketView | None:
    (ticket_id, number, area, status, summary, solution_at, postponed, closed_at, closed_how,
     specialist_name, specialist_phone) = row
    if ticket_id is None:
        return None
    specialist = (SpecialistView(specialist_name, specialist_phone)
                  if specialist_name is not None else None)
    return TicketView(id=ticket_id, number=number, area=area, status=status, summary=summary,
                      solution_at=solution_at, postponed=postponed, closed_at=closed_at,
                      closed_how=closed_how, specialist=specialist)
