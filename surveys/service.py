"""Survey answers as stored and exported. The caller's session and clock come in; the view or
command commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from database.upsert import upsert
from ivr.period import Period
from surveys.models import SurveyAnswer
from tickets.models import Specialist, Ticket

EXPORT_COLUMNS = ("call_sid", "at", "score", "team", "ticket", "specialist", "comment_url")


def store_score(session: Session, call_sid: str, now: datetime, score: int, *, team: str | None,
                ticket_number: str, specialist: bool) -> None:
    """The call's answer (a replayed key rewrites it). ``specialist``: the person was the
    ticket's specialist, who is stored with it."""
    ticket = session.execute(select(Ticket.id, Ticket.specialist_id)
                             .where(Ticket.number == ticket_number)).one_or_none() \
        if ticket_number else None
    values = {"at": now, "score": score, "team": team[:48] if team else None,
              "ticket_id": ticket.id if ticket else None,
              "specialist_id": ticket.specialist_id if ticket and specialist else None}
    session.execute(upsert(session, SurveyAnswer).values(call_sid=call_sid, **values)
                    .on_conflict_do_update(index_elements=[SurveyAnswer.call_sid], set_=values))


def attach_comment(session: Session, call_sid: str, recording_url: str, now: datetime) -> None:
    session.execute(update(SurveyAnswer).where(SurveyAnswer.call_sid == call_sid)
                    .values(comment_url=recording_url, comment_at=now))


def exported(session: Session, period: Period
             ) -> Iterator[tuple[str, ...]]:
    """Rows of ``EXPORT_COLUMNS`` in the period."""
    statement = (
        select(SurveyAnswer.call_sid, SurveyAnswer.at, SurveyAnswer.score, SurveyAnswer.team,
               Ticket.number, Specialist.key, SurveyAnswer.comment_url)
        .outerjoin(Ticket, Ticket.id == SurveyAnswer.ticket_id)
        .outerjoin(Specialist, Specialist.id == SurveyAnswer.specialist_id)
        .order_by(SurveyAnswer.at, SurveyAnswer.id)
    )
    rows = session.execute(period.within(statement, SurveyAnswer.at))
    for call_sid, at, score, team, number, specialist, comment in rows:
        yield (call_sid, at.isoformat(), str(score), team or "", number or "", specialist or "",
               comment or "")
