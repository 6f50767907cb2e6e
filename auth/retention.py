"""Auth's personal data under ``data purge`` and ``contacts forget`` (``privacy``).

Kept for ``RETENTION_LOGINS_DAYS``: the login attempts (the audit). Swept once past use: a CPF
keyed and never followed by a password, the login of a call whose status callback never came,
the failure counts of a calling number or a minute of the line once their window has passed
(each is also cleaned as logins come, but a quiet line never cleans them).
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from auth.counters import CALLER_WINDOW, STALE_CALL_LOGIN
from auth.line_failures import LINE_WINDOW
from auth.models import CallerFailure, CallLogin, Contact, LineLoginFailures, LoginAttempt
from auth.pending import SWEEP_AFTER, PendingLogin
from auth.service import ANONYMOUS_CALLER
from privacy.rules import Erasure, Person, Purge, changed, of_person

MASKED_NOTHING = "***.***.***-**"
ERASED = "erased"



PURGES = [
    Purge("login attempts", lambda session, cutoff: changed(
        session, delete(LoginAttempt).where(LoginAttempt.at < cutoff)), retention="logins"),
    Purge("CPFs keyed without a password", lambda session, cutoff: changed(
        session, delete(PendingLogin).where(PendingLogin.keyed_at < cutoff)), age=SWEEP_AFTER),
    Purge("logins of calls that never ended", lambda session, cutoff: changed(
        session, delete(CallLogin).where(CallLogin.updated_at < cutoff)), age=STALE_CALL_LOGIN),
    Purge("failed-login counts per calling number", lambda session, cutoff: changed(
        session, delete(CallerFailure).where(CallerFailure.last_failure_at < cutoff)),
        age=CALLER_WINDOW),
    Purge("failed-login counts of the line", lambda session, cutoff: changed(
        session, delete(LineLoginFailures).where(LineLoginFailures.minute < cutoff)),
        age=LINE_WINDOW),
]


def gather(session: Session, person: Person) -> None:
    """The contact with the CPF, the calls they logged in on (or tried) and the numbers they
    called from."""
    person.contact_id = session.scalar(select(Contact.id).where(Contact.cpf == person.cpf))
    person.call_sids.update(session.scalars(
        select(PendingLogin.call_sid).where(PendingLogin.cpf == person.cpf)))
    if person.contact_id is None:
        return
    attempts = session.execute(select(LoginAttempt.call_sid, LoginAttempt.caller)
                               .where(LoginAttempt.contact_id == person.contact_id)).all()
    person.call_sids.update(row.call_sid for row in attempts)
    person.numbers.update(row.caller for row in attempts
                          if row.caller not in (ANONYMOUS_CALLER, ERASED))
    person.call_sids.update(session.scalars(
        select(CallLogin.call_sid).where(CallLogin.contact_id == person.contact_id)))


def _delete_contact(session: Session, person: Person) -> int:
    if person.contact_id is None:
        return 0
    return changed(session, delete(Contact).where(Contact.id == person.contact_id))


def _anonymise_attempts(session: Session, person: Person) -> int:
    """The attempts stay, for the counts; whose they were and from where does not."""
    return changed(session, update(LoginAttempt)
                   .where(of_person(person, LoginAttempt.call_sid, LoginAttempt.contact_id),
                          or_(LoginAttempt.caller != ERASED,
                              LoginAttempt.masked_cpf != MASKED_NOTHING,
                              LoginAttempt.contact_id.is_not(None)))
                   .values(masked_cpf=MASKED_NOTHING, caller=ERASED, contact_id=None))


def _delete_caller_failures(session: Session, person: Person) -> int:
    return changed(session, delete(CallerFailure).where(CallerFailure.caller.in_(person.numbers)))


def _delete_pending(session: Session, person: Person) -> int:
    return changed(session, delete(PendingLogin).where(or_(
        PendingLogin.cpf == person.cpf, PendingLogin.call_sid.in_(person.call_sids))))


def _delete_call_logins(session: Session, person: Person) -> int:
    return changed(session, delete(CallLogin).where(
        of_person(person, CallLogin.call_sid, CallLogin.contact_id)))


# The contact first: it finds the person, and (erased in reverse order) goes last.
ERASURES = [
    Erasure("contact (name, CPF, password hash)", _delete_contact, gather=gather,
            verb="deleted"),
    Erasure("login attempts", _anonymise_attempts, verb="anonymised"),
    Erasure("failed-login counts of their numbers", _delete_caller_failures, verb="deleted"),
    Erasure("CPFs keyed without a password", _delete_pending, verb="deleted"),
    Erasure("call logins", _delete_call_logins, verb="deleted"),
]
