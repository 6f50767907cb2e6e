"""The ticket status step's read: who is logged in on the call and their company's ticket with
that number, in one indexed query on a read-only connection.

This is the busiest database read of the line, so it returns plain frozen values instead of ORM
objects and needs no transaction. Changes to a ticket load the ORM object (``service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from database.session import Database


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


# Written out for the driver rather than built per call: this is the busiest read of the line.
# Both conditions in the ticket's join: another company's ticket is exactly a missing one.
_SQL = """
SELECT cl.contact_id, cl.company_id,
       t.id, t.number, t.area, t.status, t.summary, t.solution_at, t.postponed,
       t.closed_at, t.closed_how, s.name, s.phone
FROM call_logins cl
LEFT JOIN tickets t ON t.company_id = cl.company_id AND t.number = {number}
LEFT JOIN specialists s ON s.id = t.specialist_id
WHERE cl.call_sid = {call_sid} AND cl.company_id IS NOT NULL AND cl.logged_in_at IS NOT NULL
"""
_QUERY = {
    "sqlite": _SQL.format(number=":number", call_sid=":call_sid"),
    "postgresql": _SQL.format(number="%(number)s", call_sid="%(call_sid)s"),
}


def _utc(value: datetime | str | None) -> datetime | None:
    """SQLite hands back UTCDateTime columns as text; PostgreSQL as aware datetimes."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def caller_and_ticket(
    database: Database, call_sid: str, number: str
) -> tuple[Caller, TicketView | None] | None:
    """None when nobody is logged in on the call; else the caller and the ticket, if theirs."""
    with database.reading_cursor() as cursor:
        cursor.execute(_QUERY[database.dialect_name], {"call_sid": call_sid, "number": number})
        # fetchall, not fetchone: the statement runs to its end (one row at most, call_sid and
        # number are unique), so a SQLite reader keeps no snapshot open between requests.
        rows = cursor.fetchall()
    if not rows:
        return None
    (contact_id, company_id, ticket_id, ticket_number, area, status, summary,
     solution_at, postponed, closed_at, closed_how, specialist_name, specialist_phone) = rows[0]
    caller = Caller(contact_id, company_id)
    if ticket_id is None:
        return caller, None
    specialist = (SpecialistView(specialist_name, specialist_phone)
                  if specialist_name is not None else None)
    return caller, TicketView(
        id=ticket_id, number=ticket_number.strip(), area=area, status=status,
        summary=summary or "", solution_at=_utc(solution_at), postponed=bool(postponed),
        closed_at=_utc(closed_at), closed_how=closed_how, specialist=specialist,
    )
