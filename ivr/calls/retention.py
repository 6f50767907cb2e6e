"""Call records under ``data purge`` and ``contacts forget`` (``privacy``): a record is kept
``RETENTION_CALLS_DAYS`` from the call's start; the recording URL a voicemail left in its
outcome, ``RETENTION_RECORDINGS_DAYS``. Forgetting a person keeps their calls' paths and
outcomes (the anonymous counts) and drops the number and the outcome's detail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ivr.calls.models import Call
from privacy.rules import Erasure, Person, Purge, changed


def _delete_calls(session: Session, cutoff: datetime) -> int:
    # By start (indexed); a record whose start never came, by its last step or its end.
    return changed(session, delete(Call).where(Call.started_at < cutoff)) + changed(
        session, delete(Call).where(Call.started_at.is_(None),
                                    func.coalesce(Call.updated_at, Call.ended_at) < cutoff))


def _drop_recordings(session: Session, cutoff: datetime) -> int:
    """A voicemail's outcome detail is ``node:recording URL``: the node stays."""
    return changed(session, update(Call)
                   .where(Call.outcome == "voicemail", Call.outcome_detail.contains("://"),
                          func.coalesce(Call.started_at, Call.updated_at) < cutoff)
                   .values(outcome_detail=Call.last_node))


PURGES = [
    Purge("call records", _delete_calls, retention="calls"),
    Purge("recordings in call records", _drop_recordings, retention="recordings",
          verb="removed"),
]


def gather(session: Session, person: Person) -> None:
    if person.call_sids:
        person.numbers.update(number for number in session.scalars(
            select(Call.from_number).where(Call.call_sid.in_(person.call_sids))) if number)


def _anonymise_calls(session: Session, person: Person) -> int:
    return changed(session, update(Call)
                   .where(or_(Call.call_sid.in_(person.call_sids),
                              Call.from_number.in_(person.numbers)),
                          or_(Call.from_number.is_not(None), Call.outcome_detail.is_not(None)))
                   .values(from_number=None, outcome_detail=None))


ERASURES = [Erasure("call records (caller's number, outcome detail)", _anonymise_calls,
                    gather=gather, verb="anonymised")]
