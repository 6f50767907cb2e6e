"""Survey answers under ``data purge`` and ``contacts forget`` (``privacy``): the spoken comment
(its recording URL) is kept ``RETENTION_SURVEY_COMMENTS_DAYS``; the score, team and ticket stay,
as anonymous counts."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from privacy.rules import Erasure, Person, Purge, changed, of_person
from surveys.models import SurveyAnswer

PURGES = [
    Purge("survey comments", lambda session, cutoff: changed(
        session, update(SurveyAnswer)
        .where(SurveyAnswer.at < cutoff, SurveyAnswer.comment_url.is_not(None))
        .values(comment_url=None)), retention="survey_comments", verb="removed"),
]


def _drop_comments(session: Session, person: Person) -> int:
    return changed(session, update(SurveyAnswer)
                   .where(of_person(person, SurveyAnswer.call_sid),
                          SurveyAnswer.comment_url.is_not(None))
                   .values(comment_url=None))


ERASURES = [Erasure("survey comments", _drop_comments, verb="removed")]
