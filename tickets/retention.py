"""Tickets' personal data under ``data purge`` and ``contacts forget`` (``privacy``): the
recordings callers left on tickets (their URLs; kept ``RETENTION_RECORDINGS_DAYS``), and who
left them. The ticket events themselves stay: they are the ticket's history."""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from privacy.rules import Erasure, Person, Purge, changed, of_person
from tickets.models import ReminderCall, TicketEvent, VoiceMessageSlot
from tickets.service import SLOT_FOR

PURGES = [
    Purge("recordings left on tickets", lambda session, cutoff: changed(
        session, update(TicketEvent)
        .where(TicketEvent.at < cutoff, TicketEvent.recording_url.is_not(None))
        .values(recording_url=None)), retention="recordings", verb="removed"),
    Purge("voice message offers", lambda session, cutoff: changed(
        session, delete(VoiceMessageSlot).where(VoiceMessageSlot.offered_at < cutoff)),
        age=SLOT_FOR),
    # Long past its solution's deadline: the claim that kept it to one call has done its job.
    Purge("reminder calls", lambda session, cutoff: changed(
        session, delete(ReminderCall).where(ReminderCall.claimed_at < cutoff)),
        retention="calls"),
]


def gather(session: Session, person: Person) -> None:
    if person.contact_id is None:
        return
    person.call_sids.update(sid for sid in session.scalars(
        select(TicketEvent.call_sid).where(TicketEvent.contact_id == person.contact_id)) if sid)
    person.call_sids.update(session.scalars(
        select(VoiceMessageSlot.call_sid).where(VoiceMessageSlot.contact_id == person.contact_id)))
    for call_sid, phone in session.execute(select(ReminderCall.call_sid, ReminderCall.phone)
                                           .where(ReminderCall.contact_id == person.contact_id)):
        person.numbers.add(phone)
        if call_sid:
            person.call_sids.add(call_sid)


def _anonymise_events(session: Session, person: Person) -> int:
    return changed(session, update(TicketEvent)
                   .where(of_person(person, TicketEvent.call_sid, TicketEvent.contact_id),
                          or_(TicketEvent.contact_id.is_not(None),
                              TicketEvent.recording_url.is_not(None)))
                   .values(contact_id=None, recording_url=None))


def _delete_slots(session: Session, person: Person) -> int:
    return changed(session, delete(VoiceMessageSlot).where(
        of_person(person, VoiceMessageSlot.call_sid, VoiceMessageSlot.contact_id)))


def _anonymise_reminders(session: Session, person: Person) -> int:
    # The row stays (one call per solution); the number called and who it was for go.
    return changed(session, update(ReminderCall)
                   .where(of_person(person, ReminderCall.call_sid, ReminderCall.contact_id),
                          or_(ReminderCall.contact_id.is_not(None), ReminderCall.phone != ""))
                   .values(contact_id=None, phone=""))


ERASURES = [
    Erasure("ticket events (recordings, who left them)", _anonymise_events, gather=gather,
            verb="anonymised"),
    Erasure("voice message offers", _delete_slots, verb="deleted"),
    Erasure("reminder calls (number called)", _anonymise_reminders, verb="anonymised"),
]
