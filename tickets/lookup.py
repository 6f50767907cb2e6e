"""The ticket status step's read: who is logged in on the call and their company's ticket with
that number, in one indexed query on a read-only connection.

This is the busiest database read of the line, so it returns plain frozen values instead of ORM
objects and needs no transaction. Changes to a ticket load the ORM object (``service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select

from auth.models import CallLogin, Contact, first_name_of
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
    first_name: str


_LOGIN_AND_TICKET = (
    select(
        CallLogin.contact_id, CallLogin.company_id, Contact.name.label("contact_name"),
        Ticket.id, Ticket.number, Ticket.area, Ticket.status, Ticket.summary, Ticket.solution_at,
        Ticket.postponed, Ticket.closed_at, Ticket.closed_how,
        Specialist.name.label("specialist_name"), Specialist.phone.label("specialist_phone"),
    )
    .select_from(CallLogin)
    .join(Contact, Contact.id == CallLogin.contact_id)
    # Both conditions in the join: another company's ticket is exactly a missing one.
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
    with database.reading() as connection:
        row = connection.execute(_LOGIN_AND_TICKET,
                                 {"call_sid": call_sid, "number": number}).first()
    if row is None:
        return None
    caller = Caller(row.contact_id, row.company_id, first_name_of(row.contact_name))
    if row.id is None:
        return caller, None
    specialist = (SpecialistView(row.specialist_name, row.specialist_phone)
                  if row.specialist_name is not None else None)
    return caller, TicketView(
        id=row.id, number=row.number, area=str(row.area), status=str(row.status),
        summary=row.summary or "", solution_at=row.solution_at, postponed=bool(row.postponed),
        closed_at=row.closed_at, closed_how=str(row.closed_how) if row.closed_how else None,
        specialist=specialist,
    )
