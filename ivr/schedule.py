"""Opening hours of a support line (``docs/rules.md#hours``).

Pure module: no Flask, no database, no Twilio. The current time is always
passed in, so every rule can be tested with explicit datetimes.

Day rules, in order of precedence:

* a day with no weekly windows (e.g. the weekend) is closed;
* a national holiday or an admin ``closed_dates`` entry closes the whole day;
* a local holiday (state/city) serves only the plantão windows;
* any other day is open inside its weekly windows, with plantão flagged
  where a plantão window overlaps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from babel.dates import format_date

__all__ = [
    "HolidayCalendar",
    "ScheduleSpec",
    "Status",
    "Window",
    "describe_hours",
    "describe_next_opening",
    "holiday_calendar",
    "next_opening",
    "status_at",
]

REASON_OPEN = "open"
REASON_PLANTAO = "plantao"
REASON_AFTER_HOURS = "after_hours"
REASON_CLOSED_DAY = "weekend_or_closed_day"
REASON_NATIONAL_HOLIDAY = "national_holiday"
REASON_LOCAL_HOLIDAY = "local_holiday"
REASON_CLOSED_DATE = "closed_date"

# How far next_opening looks ahead before giving up.
SEARCH_DAYS = 30

# Holiday names are spoken to callers, so ask the library for Portuguese; it
# falls back to the country's default language when pt_BR is not available.
_HOLIDAY_LANGUAGE = "pt_BR"
_LOCALE = "pt_BR"


@dataclass(frozen=True)
class Window:
    """A daily time window ``[start, end)`` in the schedule's time zone."""

    start: time
    end: time
    on_duty: str | None = None  # plantão target for this window, if any

    def __post_init__(self) -> None:
        # Overnight windows are not supported: split them at midnight instead.
        if not self.start < self.end:
            raise ValueError(f"window start {self.start} must be before end {self.end}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(
                "window times must be naive (they are read in the schedule's zone)"
            )

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end


@dataclass(frozen=True)
class ScheduleSpec:
    """Everything that defines a line's opening hours."""

    name: str
    timezone: str
    weekly: tuple[tuple[Window, ...], ...]  # 7 entries, index 0 = Monday
    plantao: tuple[Window, ...] = ()
    country: str | None = "BR"
    subdivision: str | None = None
    local_dates: tuple[date, ...] = ()
    local_yearly: tuple[tuple[int, int], ...] = ()
    closed_dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        # Validate eagerly so a bad configuration is refused at load time,
        # not in the middle of a call.
        if len(self.weekly) != 7:
            raise ValueError(
                f"weekly must have 7 entries (Monday first), got {len(self.weekly)}"
            )
        ZoneInfo(self.timezone)  # raises ZoneInfoNotFoundError for an unknown zone
        if self.country is not None:
            supported = holidays.list_supported_countries()
            if self.country not in supported:
                raise ValueError(f"unsupported holiday country {self.country!r}")
            if (
                self.subdivision is not None
                and self.subdivision not in supported[self.country]
            ):
                raise ValueError(
                    f"unsupported subdivision {self.subdivision!r} for {self.country}"
                )
        elif self.subdivision is not None:
            raise ValueError("subdivision requires a country")
        for month, day in self.local_yearly:
            date(2000, month, day)  # leap year, so 29/2 is accepted; raises on nonsense


@dataclass(frozen=True)
class Status:
    open: bool
    plantao: bool  # open, but in a plantão window (reduced staff)
    on_duty: str | None  # the matching plantão window's target, if any
    reason: str
    holiday_name: str | None = None


@dataclass(frozen=True)
class HolidayCalendar:
    """One year of special days for a spec, with precedence already resolved."""

    year: int
    national: Mapping[date, str]  # closed all day
    local: Mapping[date, str | None]  # plantão only; None = admin-added, no name
    closed: frozenset[date]  # admin full closures (not national holidays)


@dataclass
class _Compiled:
    """Per-spec data derived once, so status_at does no setup work."""

    spec: ScheduleSpec
    tz: ZoneInfo
    years: dict[int, HolidayCalendar] = field(default_factory=dict)
    # Windows on whole minutes (all a menu can express) give one status per minute: the last
    # one is kept, keyed by the minute since the epoch.
    minute_aligned: bool = False
    last_minute: tuple[int, Status] | None = None


def _on_the_minute(t: time) -> bool:
    return t == time.max or (t.second == 0 and t.microsecond == 0)


def _minute_aligned(spec: ScheduleSpec) -> bool:
    windows = [w for day in spec.weekly for w in day] + list(spec.plantao)
    return all(_on_the_minute(w.start) and _on_the_minute(w.end) for w in windows)


# Two-level cache: identity first (no hashing of the nested spec on the hot
# path), then equality, so a spec rebuilt from the same config reuses the
# work. Holding the spec in the entry keeps its id from being reused.
_MAX_SPECS = 64
_by_id: dict[int, _Compiled] = {}
_by_value: dict[ScheduleSpec, _Compiled] = {}


def _compiled(spec: ScheduleSpec) -> _Compiled:
    entry = _by_id.get(id(spec))
    if entry is not None and entry.spec is spec:
        return entry
    try:
        entry = _by_value.get(spec)
        hashable = True
    except TypeError:  # e.g. lists instead of tuples in a hand-built spec
        entry, hashable = None, False
    if entry is None:
        entry = _Compiled(spec=spec, tz=ZoneInfo(spec.timezone),
                          minute_aligned=_minute_aligned(spec))
    if len(_by_id) >= _MAX_SPECS:
        # Specs change only on config reloads; a crude reset is enough.
        _by_id.clear()
        _by_value.clear()
    _by_id[id(spec)] = entry
    if hashable:
        _by_value[spec] = entry
    return entry


def _build_calendar(spec: ScheduleSpec, year: int) -> HolidayCalendar:
    national: dict[date, str] = {}
    local: dict[date, str | None] = {}
    if spec.country is not None:
        national_lib = holidays.country_holidays(
            spec.country,
            years=year,
            categories=(holidays.PUBLIC,),
            language=_HOLIDAY_LANGUAGE,
        )
        national = {d: str(name) for d, name in national_lib.items()}
        if spec.subdivision is not None:
            regional_lib = holidays.country_holidays(
                spec.country,
                subdiv=spec.subdivision,
                years=year,
                categories=(holidays.PUBLIC,),
                language=_HOLIDAY_LANGUAGE,
            )
            # The subdivision calendar includes the national days: keep the rest.
            local = {
                d: str(name) for d, name in regional_lib.items() if d not in national
            }
    for d in spec.local_dates:
        if d.year == year and d not in national:
            local.setdefault(d, None)
    for month, day in spec.local_yearly:
        try:
            d = date(year, month, day)
        except ValueError:  # 29/2 outside leap years
            continue
        if d not in national:
            local.setdefault(d, None)
    closed = frozenset(
        d for d in spec.closed_dates if d.year == year and d not in national
    )
    # A full closure beats plantão-only service.
    for d in closed:
        local.pop(d, None)
    return HolidayCalendar(
        year=year,
        national=MappingProxyType(national),
        local=MappingProxyType(local),
        closed=closed,
    )


def _calendar(entry: _Compiled, year: int) -> HolidayCalendar:
    cal = entry.years.get(year)
    if cal is None:
        cal = _build_calendar(entry.spec, year)
        entry.years[year] = cal
    return cal


def holiday_calendar(spec: ScheduleSpec, year: int) -> HolidayCalendar:
    """National holidays, local holidays and closed dates of ``year`` (cached)."""
    return _calendar(_compiled(spec), year)


def _local(entry: _Compiled, now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive time is ambiguous; guessing a zone would silently misroute calls.
        raise ValueError("now must be timezone-aware")
    return now.astimezone(entry.tz)


def _status_local(entry: _Compiled, local: datetime) -> Status:
    spec = entry.spec
    day = local.date()
    t = local.time()
    cal = _calendar(entry, day.year)
    windows = spec.weekly[day.weekday()]

    if not windows:
        # The holiday name is informational only: the day is closed anyway.
        return Status(
            False,
            False,
            None,
            REASON_CLOSED_DAY,
            cal.national.get(day) or cal.local.get(day),
        )
    national = cal.national.get(day)
    if national is not None:
        return Status(False, False, None, REASON_NATIONAL_HOLIDAY, national)
    if day in cal.closed:
        return Status(False, False, None, REASON_CLOSED_DATE)

    in_weekly = any(w.contains(t) for w in windows)
    duty = None
    if in_weekly:
        # A plantão window counts only inside an open weekly window.
        duty = next((p for p in spec.plantao if p.contains(t)), None)

    if day in cal.local:
        name = cal.local[day]
        if duty is not None:
            return Status(True, True, duty.on_duty, REASON_PLANTAO, name)
        return Status(False, False, None, REASON_LOCAL_HOLIDAY, name)
    if duty is not None:
        return Status(True, True, duty.on_duty, REASON_PLANTAO)
    if in_weekly:
        return Status(True, False, None, REASON_OPEN)
    return Status(False, False, None, REASON_AFTER_HOURS)


def status_at(spec: ScheduleSpec, now: datetime) -> Status:
    """Whether the line is open at ``now`` (tz-aware, any zone)."""
    entry = _compiled(spec)
    if not entry.minute_aligned:
        return _status_local(entry, _local(entry, now))
    if now.tzinfo is None or now.utcoffset() is None:
        _local(entry, now)  # raises: a naive time has no minute since the epoch
    minute = math.floor(now.timestamp()) // 60
    cached = entry.last_minute
    if cached is not None and cached[0] == minute:
        return cached[1]
    local = _local(entry, now)
    offset = local.utcoffset()
    if offset is None or offset.seconds % 60 or offset.microseconds:
        return _status_local(entry, local)  # a historic offset in seconds: no shared minute
    # Judged at the minute's start: every instant of the minute has the same answer.
    status = _status_local(entry, local.replace(second=0, microsecond=0))
    entry.last_minute = (minute, status)
    return status


def _first_instant_at_or_after(tz: ZoneInfo, d: date, t: time) -> datetime:
    """Earliest UTC instant whose wall-clock time in ``tz`` is >= ``d t``.

    Equal to the plain conversion except inside a DST gap, where the wall
    time does not exist and the window really starts when the gap ends.
    """
    target = datetime.combine(d, t)
    first = target.replace(tzinfo=tz).astimezone(UTC)  # fold=0: earlier of two
    if first.astimezone(tz).replace(tzinfo=None) == target:
        return first
    # In a gap: fold=1 lands before it and fold=0 after it. Zone transitions
    # happen on whole seconds, so bisect on integer POSIX seconds.
    lo = math.floor(target.replace(tzinfo=tz, fold=1).timestamp())
    hi = math.ceil(first.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= target:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


_EPSILON = timedelta(microseconds=1)


def next_opening(spec: ScheduleSpec, now: datetime) -> datetime | None:
    """First instant strictly after ``now`` at which a closed line opens.

    If the line is open at ``now`` this is the start of the *next* open
    period, not ``now``. Moving from normal service into plantão is not an
    opening. Returns None when nothing opens within ``SEARCH_DAYS`` days.
    """
    entry = _compiled(spec)
    tz = entry.tz
    start_day = _local(entry, now).date()
    now_utc = now.astimezone(UTC)
    # Openings can only happen where some window starts (on a local holiday,
    # where a plantão window starts inside a weekly one), so test those.
    plantao_starts = {p.start for p in spec.plantao}
    for offset in range(SEARCH_DAYS + 1):
        day = start_day + timedelta(days=offset)
        windows = spec.weekly[day.weekday()]
        if not windows:
            continue
        starts = sorted({w.start for w in windows} | plantao_starts)
        for s in starts:
            candidate = _first_instant_at_or_after(tz, day, s)
            if candidate <= now_utc:
                continue
            if not _status_local(entry, candidate.astimezone(tz)).open:
                continue
            if _status_local(entry, (candidate - _EPSILON).astimezone(tz)).open:
                continue  # already open just before: no transition here
            return candidate.astimezone(tz)
    return None


def _spoken_time(t: time) -> str:
    # Brazilian spoken/written style: "7h", "13h30", "7h05".
    return f"{t.hour}h" if t.minute == 0 else f"{t.hour}h{t.minute:02d}"


def _weekday_name(d: date) -> str:
    return format_date(d, "EEEE", locale=_LOCALE)


def describe_next_opening(opening: datetime, now: datetime) -> str:
    """How a caller hears when the line opens: "hoje às 13h30", "amanhã às 7h"...

    Day boundaries are taken in the opening's time zone.
    """
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    at = f"às {_spoken_time(opening.time())}"
    if days == 0:
        return f"hoje {at}"
    if days == 1:
        return f"amanhã {at}"
    weekday = _weekday_name(opening.date())
    if 2 <= days <= 6:
        return f"{weekday} {at}"
    # A week or more away the weekday alone is ambiguous: add the date.
    day_month = format_date(opening.date(), "d 'de' MMMM", locale=_LOCALE)
    return f"{weekday}, {day_month}, {at}"


# Reference Monday used only to ask Babel for weekday names by index.
_A_MONDAY = date(2024, 1, 1)


def _day_names(first: int, last: int) -> tuple[str, str]:
    a = _weekday_name(_A_MONDAY + timedelta(days=first))
    b = _weekday_name(_A_MONDAY + timedelta(days=last))
    # "de segunda a sexta-feira": the shared "-feira" is said once, at the end.
    suffix = "-feira"
    if a.endswith(suffix) and b.endswith(suffix):
        a = a.removesuffix(suffix)
    return a, b


def _describe_days(first: int, last: int) -> str:
    if first == last:
        return _weekday_name(_A_MONDAY + timedelta(days=first))
    a, b = _day_names(first, last)
    if last == first + 1:
        return f"{a} e {b}"
    return f"de {a} a {b}"


def _describe_windows(windows: tuple[Window, ...]) -> str:
    ordered = sorted(windows, key=lambda w: w.start)
    return " e ".join(
        f"das {_spoken_time(w.start)} às {_spoken_time(w.end)}" for w in ordered
    )


def describe_hours(spec: ScheduleSpec) -> str:
    """Portuguese summary, e.g. "de segunda a sexta-feira, das 7h às 19h, exceto feriados"."""
    # Group contiguous weekdays (Monday..Sunday, no wrap) with identical windows.
    runs: list[tuple[int, int, tuple[Window, ...]]] = []
    for index, windows in enumerate(spec.weekly):
        if not windows:
            continue
        key = tuple(sorted(windows, key=lambda w: (w.start, w.end)))
        if runs and runs[-1][1] == index - 1 and _same_hours(runs[-1][2], key):
            runs[-1] = (runs[-1][0], index, runs[-1][2])
        else:
            runs.append((index, index, key))
    if not runs:
        return "sem horário de atendimento"
    parts = [f"{_describe_days(a, b)}, {_describe_windows(w)}" for a, b, w in runs]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", e " + parts[-1]
    if spec.country is not None or spec.local_dates or spec.local_yearly:
        text += ", exceto feriados"
    return text


def _same_hours(a: tuple[Window, ...], b: tuple[Window, ...]) -> bool:
    # on_duty targets do not change what the caller hears.
    return [(w.start, w.end) for w in a] == [(w.start, w.end) for w in b]
