"""The numbers the console shows for a period: rollups plus live counts (``admin.rollups``),
turned into local days and hours of the menu's time zone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from admin.facts import CATEGORIES, category
from admin.models import (
    AdminAccount,
    AdminLogin,
    CallHour,
    LoginHour,
    NodeHour,
    RolledDay,
    TransferHour,
)
from admin.rollups import Counts, as_utc_hour, call_groups, day_start, login_groups
from auth.models import Contact
from surveys.models import SurveyAnswer

MAX_DAYS = 366
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Period:
    """Whole local days, ``first`` to ``last`` inclusive, in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(),
                                tzinfo=self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def parse_period(first: str | None, last: str | None, now: datetime,
                 zone: ZoneInfo) -> tuple[Period, str | None]:
    """The period asked for, or the last ``DEFAULT_DAYS`` days with the reason it was refused."""
    today = now.astimezone(zone).date()
    default = Period(today - timedelta(days=DEFAULT_DAYS - 1), today, zone)
    if not first and not last:
        return default, None
    try:
        end = date.fromisoformat(last) if last else today
        begin = date.fromisoformat(first) if first else end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return default, "dates are written YYYY-MM-DD; showing the last 7 days"
    if begin > end:
        return default, "the period ends before it starts; showing the last 7 days"
    if (end - begin).days >= MAX_DAYS:
        return default, f"a period is at most {MAX_DAYS} days; showing the last 7 days"
    return Period(begin, end, zone), None


@dataclass
class Totals:
    calls_by_hour: Counter[datetime] = field(default_factory=Counter)  # UTC hour
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (outcome, node)
    transfers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (team, result)
    funnel: dict[str, dict[str, int]] = field(default_factory=dict)  # node -> measure -> n

    @property
    def calls(self) -> int:
        return sum(self.calls_by_hour.values())

    def add(self, counts: Counts) -> None:
        for (hour, outcome, node), n in counts.calls.items():
            self.calls_by_hour[hour] += n
            self.outcomes[outcome, node] += n
        for (_, team, result), n in counts.transfers.items():
            self.transfers[team, result] += n
        for (_, node, measure), n in counts.nodes.items():
            self._bump(node, measure, n)

    def _bump(self, node: str, measure: str, n: int) -> None:
        entry = self.funnel.setdefault(node, {"reached": 0, "gave_up": 0,
                                              "retries_exhausted": 0})
        entry[measure] += n

    def categories(self, ticket_nodes: frozenset[str]) -> dict[str, int]:
        """Calls by how they ended (``admin.facts.category``), every category present."""
        result = dict.fromkeys(CATEGORIES, 0)
        for (outcome, node), n in self.outcomes.items():
            result[category(outcome, node, ticket_nodes)] += n
        return result

    def by_local_day(self, period: Period) -> list[tuple[date, int]]:
        days: Counter[date] = Counter()
        for hour, n in self.calls_by_hour.items():
            days[hour.astimezone(period.zone).date()] += n
        return [(day, days[day]) for day in period.days()]

    def by_local_hour(self, period: Period) -> list[tuple[int, int]]:
        hours: Counter[int] = Counter()
        for hour, n in self.calls_by_hour.items():
            hours[hour.astimezone(period.zone).hour] += n
        return [(hour, hours[hour]) for hour in range(24)]


def totals(session: Session, period: Period) -> Totals:
    """Rolled-up hours from the rollups, the rest counted from the calls table."""
    start, end = period.start, period.end
    result = Totals()
    in_range = (CallHour.hour >= start, CallHour.hour < end)
    for hour, n in session.execute(
            select(CallHour.hour, func.sum(CallHour.calls)).where(*in_range)
            .group_by(CallHour.hour)):
        result.calls_by_hour[hour] += int(n)
    for outcome, node, n in session.execute(
            select(CallHour.outcome, CallHour.node, func.sum(CallHour.calls)).where(*in_range)
            .group_by(CallHour.outcome, CallHour.node)):
        result.outcomes[outcome, node] += int(n)
    for team, outcome, n in session.execute(
            select(TransferHour.team, TransferHour.result, func.sum(TransferHour.transfers))
            .where(TransferHour.hour >= start, TransferHour.hour < end)
            .group_by(TransferHour.team, TransferHour.result)):
        result.transfers[team, outcome] += int(n)
    for node, reached, gave_up, exhausted in session.execute(
            select(NodeHour.node, func.sum(NodeHour.reached), func.sum(NodeHour.gave_up),
                   func.sum(NodeHour.retries_exhausted))
            .where(NodeHour.hour >= start, NodeHour.hour < end).group_by(NodeHour.node)):
        result.funnel[node] = {"reached": int(reached), "gave_up": int(gave_up),
                               "retries_exhausted": int(exhausted)}
    for gap_start, gap_end in unrolled_ranges(session, start, end):
        live = Counts()
        live.add_groups(call_groups(session, gap_start, gap_end))
        result.add(live)
    return result


def unrolled_ranges(session: Session, start: datetime,
                    end: datetime) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) in UTC days that no rollup holds, adjacent days merged."""
    rolled = set(session.scalars(select(RolledDay.day).where(
        RolledDay.day >= start.date(), RolledDay.day <= end.date())))
    ranges: list[tuple[datetime, datetime]] = []
    day = start.date()
    while day_start(day) < end:
        low = max(start, day_start(day))
        high = min(end, day_start(day + timedelta(days=1)))
        if day not in rolled:
            if ranges and ranges[-1][1] == low:
                ranges[-1] = (ranges[-1][0], high)
            else:
                ranges.append((low, high))
        day += timedelta(days=1)
    return ranges


# -- logins -------------------------------------------------------------------------------

CALLER_LOGIN_GROUPS = {
    "ok": "ok",
    "bad_password_locks": "locked", "locked": "locked",
}


def caller_logins(session: Session, period: Period) -> dict[str, Counter[date]]:
    """Phone logins per local day: ok, failed (any refusal) and locked (the failure that
    locked a contact, and attempts refused while locked); rollups, then the rest live."""
    start, end = period.start, period.end
    rows: list[tuple[datetime | str, str, int]] = [
        (hour, result, int(n)) for hour, result, n in session.execute(
            select(LoginHour.hour, LoginHour.result, LoginHour.attempts)
            .where(LoginHour.hour >= start, LoginHour.hour < end))]
    for gap_start, gap_end in unrolled_ranges(session, start, end):
        rows += [(hour, result, int(n))
                 for hour, result, n in login_groups(session, gap_start, gap_end)]
    result: dict[str, Counter[date]] = {"ok": Counter(), "failed": Counter(),
                                        "locked": Counter()}
    local_days: dict[datetime | str, date] = {}  # a year is 8,760 hours in ~50,000 rows
    for bucket, outcome, n in rows:
        day = local_days.get(bucket)
        if day is None:
            day = local_days[bucket] = as_utc_hour(bucket).astimezone(period.zone).date()
        result[CALLER_LOGIN_GROUPS.get(outcome, "failed")][day] += n
    return result


def survey_scores(session: Session, period: Period) -> dict[str, Counter[int]]:
    """Satisfaction scores keyed in the period, by team (the menu node that answered), counted
    by score; grouped in the database (answers are indexed by time)."""
    scores: dict[str, Counter[int]] = {}
    for team, score, n in session.execute(
            select(SurveyAnswer.team, SurveyAnswer.score, func.count())
            .where(SurveyAnswer.at >= period.start, SurveyAnswer.at < period.end)
            .group_by(SurveyAnswer.team, SurveyAnswer.score)):
        scores.setdefault(team or "(no team)", Counter())[int(score)] += int(n)
    return scores


def console_logins(session: Session, period: Period) -> Counter[str]:
    return Counter({result: int(n) for result, n in session.execute(
        select(AdminLogin.result, func.count())
        .where(AdminLogin.at >= period.start, AdminLogin.at < period.end)
        .group_by(AdminLogin.result))})


def contacts_locked(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(Contact)
                              .where(Contact.locked_until > now)) or 0)


def admins_locked(session: Session, now: datetime) -> int:
    return int(session.scalar(select(func.count()).select_from(AdminAccount)
                              .where(AdminAccount.locked_until > now)) or 0)
