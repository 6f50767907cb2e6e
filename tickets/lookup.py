"""How a ticket is read: every read of a ticket is here.

- ``caller_and_ticket``: the ticket webhooks' read, on every ticket step. Who is logged in on the
  call and their company's ticket with the keyed number, in one indexed query, as frozen values
  (``TicketView``) rather than ORM objects: the busiest database read of the line.
- ``ticket_to_change``: the ORM object of a ticket, loaded only to change it through
  ``tickets.service`` (optimistic locking, events), in the session that will commit the change.

The ticket step's read runs on the thread's reading connection, outside any transaction, through
``database.reads.FirstRow`` (one round trip; a lost server fails that read only). Changes load
the ORM object in the session that commits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from auth.models import CallLogin
from database.reads import FirstRow
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
    # Bumped by every change (optimistic locking): a confirmation carries the one it was
    # asked for, so a replayed confirmation changes nothing a second time.
    version: int = 1


@dataclass(frozen=True)
class Caller:
    contact_id: int
    company_id: int


# The columns of a TicketView, in its order, then its specialist's.
_TICKET_COLUMNS = (
    Ticket.id, Ticket.number, Ticket.area, Ticket.status, Ticket.summary, Ticket.solution_at,
    Ticket.postponed, Ticket.closed_at, Ticket.closed_how, Specialist.name, Specialist.phone,
    Ticket.version,
)

# Built once, with the values bound at each call: this is the busiest read of the line. Both of
# the ticket's conditions are in its join, so another company's ticket is exactly a missing one
# (same answer, same plan: the unique index on number).
CALLER_AND_TICKET = FirstRow(
    select(CallLogin.contact_id, CallLogin.company_id, *_TICKET_COLUMNS)
    .select_from(CallLogin)
    .outerjoin(Ticket, and_(Ticket.company_id == CallLogin.company_id,
                            Ticket.number == bindparam("number")))
    .outerjoin(Specialist, Specialist.id == Ticket.specialist_id)
    .where(CallLogin.call_sid == bindparam("call_sid"), CallLogin.company_id.is_not(None),
           CallLogin.logged_in_at.is_not(None))
)



def caller_and_ticket(
    database: Database, call_sid: str, number: str
) -> tuple[Caller, TicketView | None] | None:
    """None when nobody is logged in on the call; else the caller and the ticket, if theirs."""
    row = CALLER_AND_TICKET(database, {"call_sid": call_sid, "number": number})
    if row is None:
        return None
    contact_id, company_id, *ticket = row
    return Caller(contact_id, company_id), _view(ticket)


def ticket_to_change(session: Session, ticket_id: int) -> Ticket | None:
    """The ORM object of a ticket, to change it (None if it was deleted since it was read)."""
    return session.get(Ticket, ticket_id)


def _view(row: Any) -> TicketView | None:
    (ticket_id, number, area, status, summary, solution_at, postponed, closed_at, closed_how,
     specialist_name, specialist_phone, version) = row
    if ticket_id is None:
        return None
    specialist = (SpecialistView(specialist_name, specialist_phone)
                  if specialist_name is not None else None)
    return TicketView(id=ticket_id, number=number, area=area, status=status, summary=summary,
                      solution_at=solution_at, postponed=postponed, closed_at=closed_at,
                      closed_how=closed_how, specialist=specialist, version=version)
