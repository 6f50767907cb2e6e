"""Ouvidoria contacts as stored: one a call, its outcome moved along as the call goes on. The
caller's session and clock come in; the view commits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from auth.documents import mask_cpf
from auth.models import Contact
from database.upsert import upsert
from ivr.period import Period
from ouvidoria.models import OuvidoriaContact
from tickets.models import Ticket

# Outcomes a recorded message may still follow.
_AWAITING_MESSAGE = ("unanswered", "no_message")


def record(session: Session, call_sid: str, now: datetime, *, contact_id: int | None,
           ticket_id: int | None, outcome: str) -> None:
    """The call's ouvidoria contact as it stands now (a replayed step rewrites the same row)."""
    values = {"at": now, "contact_id": contact_id, "ticket_id": ticket_id, "outcome": outcome}
    session.execute(upsert(session, OuvidoriaContact).values(call_sid=call_sid, **values)
                    .on_conflict_do_update(index_elements=[OuvidoriaContact.call_sid],
                                           set_=values))


def set_outcome(session: Session, call_sid: str, outcome: str) -> None:
    session.execute(update(OuvidoriaContact).where(OuvidoriaContact.call_sid == call_sid)
                    .values(outcome=outcome))


def attach_message(session: Session, call_sid: str, recording_url: str) -> bool:
    """The message recorded on this call's contact; False when none awaits one (a replay)."""
    done = session.execute(
        update(OuvidoriaContact)
        .where(OuvidoriaContact.call_sid == call_sid,
               OuvidoriaContact.outcome.in_(_AWAITING_MESSAGE))
        .values(outcome="message", recording_url=recording_url))
    return bool(getattr(done, "rowcount", 0))


@dataclass(frozen=True)
class Listed:
    at: datetime
    masked_cpf: str
    ticket: str
    outcome: str


def listed(session: Session, period: Period) -> Iterator[Listed]:
    """Contacts in the period, oldest first."""
    statement = (
        select(OuvidoriaContact.at, Contact.cpf, Ticket.number, OuvidoriaContact.outcome)
        .outerjoin(Contact, Contact.id == OuvidoriaContact.contact_id)
        .outerjoin(Ticket, Ticket.id == OuvidoriaContact.ticket_id)
        .order_by(OuvidoriaContact.at, OuvidoriaContact.id)
    )
    for at, cpf, number, outcome in session.execute(period.within(statement, OuvidoriaContact.at)):
        yield Listed(at, mask_cpf(cpf) if cpf else "-", number or "-", outcome)
