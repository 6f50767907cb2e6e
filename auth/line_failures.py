"""Refused logins on the whole line, whoever calls and whatever CPF they key: password spraying.

The other limits follow a call (3 failures), a CPF (5 lock it) or a calling number (a growing
pause); a caller who tries one common password against many CPFs, a few per call, each call
from a new number (caller ID is easily forged), meets none of them. This count does: every
password check on any call counts here, and so does its refusal. Every login on the line, by
anyone, is answered after a pause (``LoginResult.delay_seconds``, the larger of this and the
calling number's own, played as a ``<Pause>`` before the answer, right or wrong, so a sprayer
must sit through it to learn each result) while the refused checks of the last ``LINE_WINDOW``
(10 minutes) exceed both

- ``LINE_THRESHOLD`` (30), far above what callers who mistype produce on a quiet line, and
- ``LINE_REFUSED_SHARE`` (half) of the checks: as many refusals as there were accepted checks.

Why a share, and why half. A fixed count cannot tell a sprayer from a busy line: 500 callers
on the line, ~5 calls a second, mistype their way past 30 refusals in a minute or two, and
every honest login then waited 20 s. Honest mistyping refuses roughly 15-25% of checks; a
sprayer is refused on nearly every check (one PIN over many CPFs). Half is twice the top of the
honest range, so chance does not reach it (at 25% refused, a window passes both bars with odds
of 1 in 77,000 at about 60 checks, where the bars meet, as with the count alone; 1 in 10^9 at
120 checks, and less with more) and neither do honest callers' bad days, such as a company's
contacts imported without passwords (refused as such) or a wave of forgotten passwords, up to
40% or so. The price is on a busy line: each accepted check there lets one refusal through, so
a sprayer gets the accepted checks less the honest refusals free in every 10 minutes (with 800
accepted and 200 refused in the window: 600 tries, one a second). A lower share would shrink
that and bring the honest bad days within reach. A sprayer can also add accepted checks of
their own, but only with a real contact's password, each login one more call audited under
that contact.

The pause, once on, counts the refusals past what the line allows, ``allowed_failures``: the
larger of ``LINE_THRESHOLD`` and the refusals the accepted checks allow at that share. It is
2 s for the first, doubling every ``LINE_STEP`` (10) more, up to ``MAX_LINE_DELAY_SECONDS``
(20 s). A quiet line allows 30, so its steps are those of the count alone (2 s past 30, 20 s
past 70). On a busy line the sprayer pays the same steps for every refusal beyond what the
honest callers allow, and honest traffic, whose refusals stay well below its accepted checks,
pays nothing. Counting the steps from 30 instead would put the line at 20 s the moment a spray
passes the share by one refusal, and swing it between 0 and 20 s while a sprayer keeps near
the share (each accepted login brings it back under); the steps from the allowance grow with
how far the line is past it, as on a quiet line.

What counts: a password checked (``"accepted"``) or checked and refused (``"refused"``: unknown
CPF, no password, wrong password, locked contact). Not counted (``"unchecked"``): an invalid CPF
(refused before any look-up; callers mistype 11 digits often, and it reveals nothing; counted as
a check, it would let a sprayer dilute the share for free) and attempts refused unchecked at the
call's limit.

The counts live in the database, so every worker and instance sees the same line: one row per
minute (``LineLoginFailures``: ``checks`` and ``failures``), incremented by one atomic upsert
(``database.upsert``), summed over the rows younger than the window (up to 10 rows). Rows that
leave the window are deleted by the next login, which also tells the state change: a WARNING
``line slowdown on`` from the login that finds the line past its allowance and ``line slowdown
off`` from the first that finds it back within (alert on these; ``line_count`` gives both
counts for a metric, ``line_failures`` the refusals alone).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from auth.models import LineLoginFailures
from database.upsert import upsert

logger = logging.getLogger(__name__)

LINE_WINDOW = timedelta(minutes=10)
LINE_THRESHOLD = 30
LINE_REFUSED_SHARE = Fraction(1, 2)
LINE_STEP = 10
MAX_LINE_DELAY_SECONDS = 20

PasswordCheck = Literal["accepted", "refused", "unchecked"]


def line_delay_seconds(refused_beyond_allowed: int) -> int:
    """The pause every login gets while the line's refusals in the window exceed what it
    allows (``LineCount.allowed_failures``) by ``refused_beyond_allowed``."""
    if refused_beyond_allowed <= 0:
        return 0
    return min(2 ** (1 + (refused_beyond_allowed - 1) // LINE_STEP), MAX_LINE_DELAY_SECONDS)


@dataclass(frozen=True)
class LineCount:
    """The password checks on the whole line within the window, and how many were refused."""

    checks: int
    failures: int

    @property
    def allowed_failures(self) -> int:
        """Refusals the line takes without a pause: ``LINE_THRESHOLD``, or more when the
        accepted checks allow more at ``LINE_REFUSED_SHARE``."""
        accepted = self.checks - self.failures
        by_share = accepted * LINE_REFUSED_SHARE / (1 - LINE_REFUSED_SHARE)
        return max(LINE_THRESHOLD, int(by_share))

    @property
    def slowed(self) -> bool:
        """Past ``LINE_THRESHOLD`` refusals and past ``LINE_REFUSED_SHARE`` of the checks."""
        return self.failures > self.allowed_failures

    @property
    def delay_seconds(self) -> int:
        return line_delay_seconds(self.failures - self.allowed_failures)


def _minute(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def line_count(session: Session, now: datetime) -> LineCount:
    """Checks and refusals on the whole line within the window ending at ``now``; reads only
    (for a metric or a health page). Minutes are whole: the window is the current minute and
    the nine before it."""
    checks, failures = session.execute(
        select(func.coalesce(func.sum(LineLoginFailures.checks), 0),
               func.coalesce(func.sum(LineLoginFailures.failures), 0))
        .where(LineLoginFailures.minute > now - LINE_WINDOW)
    ).one()
    return LineCount(checks=int(checks), failures=int(failures))


def line_failures(session: Session, now: datetime) -> int:
    """Refused checks on the whole line within the window ending at ``now``; reads only."""
    return line_count(session, now).failures


def observe_login(session: Session, now: datetime, check: PasswordCheck) -> LineCount:
    """Counts one password ``check`` (none when ``"unchecked"``), deletes the minutes that left
    the window, logs a change of state, and returns the line's counts within the window.

    Every login calls this, so the state change is seen by the first login after it; each of
    the statements is atomic, so concurrent workers lose no count. Call it after the login's
    other writes (the row of the current minute is the busiest the line has).
    """
    deleted = session.execute(
        delete(LineLoginFailures)
        .where(LineLoginFailures.minute <= now - LINE_WINDOW)
        .returning(LineLoginFailures.checks, LineLoginFailures.failures)
        .execution_options(synchronize_session=False)
    ).all()
    checked = int(check != "unchecked")
    refused = int(check == "refused")
    if checked:
        statement = upsert(session, LineLoginFailures).values(
            minute=_minute(now), checks=1, failures=refused)
        session.execute(statement.on_conflict_do_update(
            index_elements=[LineLoginFailures.minute],
            set_={"checks": LineLoginFailures.checks + 1,
                  "failures": LineLoginFailures.failures + refused},
        ))
    after = line_count(session, now)
    before = LineCount(
        checks=after.checks - checked + sum(row.checks for row in deleted),
        failures=after.failures - refused + sum(row.failures for row in deleted),
    )
    minutes = LINE_WINDOW // timedelta(minutes=1)
    if after.slowed and not before.slowed:
        logger.warning(
            "line slowdown on: %d of %d password checks refused in the last %d minutes (past "
            "%d and past %s of the checks, any number, any CPF): every login now waits %d s "
            "before its answer",
            after.failures, after.checks, minutes, LINE_THRESHOLD, _percent(LINE_REFUSED_SHARE),
            after.delay_seconds,
        )
    elif before.slowed and not after.slowed:
        logger.warning(
            "line slowdown off: %d of %d password checks refused in the last %d minutes (%d "
            "allowed: %d, or %s of the checks): logins no longer wait",
            after.failures, after.checks, minutes, after.allowed_failures, LINE_THRESHOLD,
            _percent(LINE_REFUSED_SHARE),
        )
    return after


def _percent(share: Fraction) -> str:
    return f"{float(share):.0%}"
