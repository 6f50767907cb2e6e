"""Failed logins on the whole line, whoever calls and whatever CPF they key: password spraying.

The other limits follow a call (3 failures), a CPF (5 lock it) or a calling number (a growing
pause); a caller who tries one common password against many CPFs, a few per call, each call
from a new number (caller ID is easily forged), meets none of them. This count does: every
password check that fails, on any call, counts here, and once the failures of the last
``LINE_WINDOW`` (10 minutes) exceed ``LINE_THRESHOLD`` (30; far above what callers who mistype
produce) every login on the line, by anyone, is answered after a pause that grows with them:
2 s past 30, then doubling every ``LINE_STEP`` (10) failures up to ``MAX_LINE_DELAY_SECONDS``
(20 s). The pause is ``LoginResult.delay_seconds`` (the larger of this and the calling number's
own), played as a ``<Pause>`` before the answer is spoken, right or wrong, so a sprayer must sit
through it to learn each result; legitimate callers share the cost while the attack lasts.

What counts: a password checked and refused (unknown CPF, no password, wrong password, locked
contact). Not counted: an invalid CPF (refused before any look-up; callers mistype 11 digits
often, and it reveals nothing) and attempts refused unchecked at the call's limit.

The count lives in the database, so every worker and instance sees the same line: one row per
minute (``LineLoginFailures``), incremented by one atomic upsert (``database.upsert``), summed over
the rows younger than the window (up to 10 rows). Rows that leave the window are deleted by the
next login, which also tells the state change: a WARNING ``line slowdown on`` from the failure
that crosses the threshold and ``line slowdown off`` from the first login after the count falls
back (alert on these; ``line_failures`` gives the count for a metric).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from auth.models import LineLoginFailures
from database.upsert import upsert

logger = logging.getLogger(__name__)

LINE_WINDOW = timedelta(minutes=10)
LINE_THRESHOLD = 30
LINE_STEP = 10
MAX_LINE_DELAY_SECONDS = 20


def line_delay_seconds(failures: int) -> int:
    """The pause every login gets while the line has had ``failures`` within the window."""
    if failures <= LINE_THRESHOLD:
        return 0
    return min(2 ** (1 + (failures - LINE_THRESHOLD - 1) // LINE_STEP), MAX_LINE_DELAY_SECONDS)


def _minute(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def line_failures(session: Session, now: datetime) -> int:
    """Failed logins on the whole line within the window ending at ``now``; reads only (for a
    metric or a health page). Minutes are whole: the window is the current minute and the nine
    before it."""
    total = session.scalar(
        select(func.coalesce(func.sum(LineLoginFailures.failures), 0))
        .where(LineLoginFailures.minute > now - LINE_WINDOW)
    )
    return int(total or 0)


def observe_login(session: Session, now: datetime, *, failed: bool) -> int:
    """Counts one refused password check when ``failed``, deletes the minutes that left the
    window, logs a change of state, and returns the line's failures within the window.

    Every login that is checked calls this, so the state change is seen by the first login
    after it; each of the statements is atomic, so concurrent workers lose no count and only
    the one that deletes a minute can see the slowdown end with it. Call it after the login's
    other writes (the row of the current minute is the busiest the line has).
    """
    deleted = session.scalars(
        delete(LineLoginFailures)
        .where(LineLoginFailures.minute <= now - LINE_WINDOW)
        .returning(LineLoginFailures.failures)
        .execution_options(synchronize_session=False)
    ).all()
    if failed:
        statement = upsert(session, LineLoginFailures).values(minute=_minute(now), failures=1)
        session.execute(statement.on_conflict_do_update(
            index_elements=[LineLoginFailures.minute],
            set_={"failures": LineLoginFailures.failures + 1},
        ))
    after = line_failures(session, now)
    before = after - int(failed) + sum(deleted)
    if before <= LINE_THRESHOLD < after:
        logger.warning(
            "line slowdown on: %d failed logins in the last %d minutes (threshold %d, any "
            "number, any CPF): every login now waits %d s before its answer",
            after, LINE_WINDOW // timedelta(minutes=1), LINE_THRESHOLD, line_delay_seconds(after),
        )
    elif after <= LINE_THRESHOLD < before:
        logger.warning(
            "line slowdown off: %d failed logins in the last %d minutes (threshold %d): "
            "logins no longer wait",
            after, LINE_WINDOW // timedelta(minutes=1), LINE_THRESHOLD,
        )
    return after
