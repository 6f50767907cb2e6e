"""Call records under ``data purge`` and ``contacts forget`` (``privacy``): a record and its
steps (``call_steps``, for replay) are kept ``RETENTION_CALLS_DAYS`` from the call's start; the
recording URL a voicemail left in its outcome, ``RETENTION_RECORDINGS_DAYS``. Forgetting a
person keeps their calls' paths, steps and outcomes (the anonymous counts) and drops the number
and the outcomes' detail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from ivr.calls.models import Call, CallStep
from privacy.rules import Erasure, Person, Purge, changed


def _delete_calls(session: Session, cutoff: datetime) -> int:
    """The calls rows and their steps (found by the calls' CallSid: ``call_steps`` has no
    index on time, and every webhook writes it). By start (indexed); a record whose start
    never came, by its last step or its end."""
    deleted = 0
    for old in (Call.started_at < cutoff,
                and_(Call.started_at.is_(None),
                     func.coalesce(Call.updated_at, Call.ended_at) < cutoff)):
        changed(session, delete(CallStep).where(
            CallStep.call_sid.in_(select(Call.call_sid).where(old))))
        deleted += changed(session, delete(Call).where(old))
    return deleted


def _drop_recordings(session: Session, cutoff: datetime) -> int:
    """A voicemail's outcome detail is ``node:recording URL``: the node stays, in the record
    and in the step that recorded it."""
    changed(session, update(CallStep)
            .where(CallStep.outcome == "voicemail", CallStep.outcome_detail.contains("://"),
                   CallStep.at < cutoff)
            .values(outcome_detail=CallStep.node))
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
    """The steps first: the calls are found by their number too, which goes next."""
    mine = or_(Call.call_sid.in_(person.call_sids), Call.from_number.in_(person.numbers))
    changed(session, update(CallStep)
            .where(CallStep.call_sid.in_(select(Call.call_sid).where(mine)),
                   CallStep.outcome_detail.is_not(None))
            .values(outcome_detail=None))
    return changed(session, update(Call)
                   .where(mine, or_(Call.from_number.is_not(None),
                                    Call.outcome_detail.is_not(None)))
                   .values(from_number=None, outcome_detail=None))


ERASURES = [Erasure("call records (caller's number, outcome detail)", _anonymise_calls,
                    gather=gather, verb="anonymised")]
