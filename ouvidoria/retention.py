"""Ouvidoria contacts under ``data purge`` and ``contacts forget`` (``privacy``): the recorded
message is kept ``RETENTION_RECORDINGS_DAYS``; forgetting a person unlinks their contacts and
drops their messages, keeping when, the ticket and the outcome."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ouvidoria.models import OuvidoriaContact
from privacy.rules import Erasure, Person, Purge, changed, of_person

PURGES = [
    Purge("ouvidoria messages", lambda session, cutoff: changed(
        session, update(OuvidoriaContact)
        .where(OuvidoriaContact.at < cutoff, OuvidoriaContact.recording_url.is_not(None))
        .values(recording_url=None)), retention="recordings", verb="removed"),
]


def _gather(session: Session, person: Person) -> None:
    if person.contact_id is not None:
        person.call_sids.update(session.scalars(select(OuvidoriaContact.call_sid).where(
            OuvidoriaContact.contact_id == person.contact_id)))


def _anonymise(session: Session, person: Person) -> int:
    return changed(session, update(OuvidoriaContact)
                   .where(of_person(person, OuvidoriaContact.call_sid,
                                    OuvidoriaContact.contact_id),
                          or_(OuvidoriaContact.contact_id.is_not(None),
                              OuvidoriaContact.recording_url.is_not(None)))
                   .values(contact_id=None, recording_url=None))


ERASURES = [Erasure("ouvidoria contacts (who, messages)", _anonymise, gather=_gather,
                    verb="anonymised")]
