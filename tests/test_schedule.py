"""Tests for ivr.schedule (``docs/rules.md#hours``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.schedule import (
    ScheduleSpec,
    Status,
    Window,
    describe_hours,
    describe_next_opening,
    holiday_calendar,
    next_opening,
    status_at,
)

SP = ZoneInfo("America/Sao_Paulo")

OPEN_WINDOW = (Window(time(7), time(19)),)
PLANTAO = (
    Window(time(7), time(8), on_duty="sip:plantao-manha@pbx"),
    Window(time(12), time(13, 30), on_duty="sip:plantao-almoco@pbx"),
    Window(time(18), time(19), on_duty="sip:plantao-noite@pbx"),
)


def shipped_spec(**overrides: object) -> ScheduleSpec:
    """Like the shipped config: Mon–Fri 07–19, plantão 07–08/12–13:30/18–19."""
    fields: dict[str, object] = {
        "name": "suporte",
        "timezone": "America/Sao_Paulo",
        "weekly": (OPEN_WINDOW,) * 5 + ((), ()),
        "plantao": PLANTAO,
        "country": "BR",
        "subdivision": "SP",
        "local_yearly": ((1, 25),),  # São Paulo city anniversary
    }
    fields.update(overrides)
    return ScheduleSpec(**fields)  # type: ignore[arg-type]


SPEC = shipped_spec()


def sp(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=SP)


# --- facts about the calendar library the tests rely on ---------------------


def test_library_calendar_facts() -> None:
    national = holidays.country_holidays(
        "BR", years=[2026, 2027], categories=(holidays.PUBLIC,)
    )
    assert date(2026, 12, 25) in national
    assert date(2026, 11, 20) in national  # Zumbi: national since 2024
    assert date(2026, 7, 9) not in national
    sp_state = holidays.country_holidays("BR", subdiv="SP", years=2026)
    assert date(2026, 7, 9) in sp_state
    assert date(2026, 7, 9).weekday() == 3  # Thursday
    assert date(2027, 1, 25).weekday() == 0  # Monday
    assert date(2026, 11, 20).weekday() == 4  # Friday


# --- status_at --------------------------------------------------------------


def test_weekday_mid_morning_open_not_plantao() -> None:
    assert status_at(SPEC, sp(2026, 3, 4, 10)) == Status(True, False, None, "open")


@pytest.mark.parametrize(
    ("hour", "minute", "target"),
    [
        (7, 0, "sip:plantao-manha@pbx"),
        (7, 30, "sip:plantao-manha@pbx"),
        (12, 0, "sip:plantao-almoco@pbx"),
        (12, 45, "sip:plantao-almoco@pbx"),
        (13, 29, "sip:plantao-almoco@pbx"),
        (18, 30, "sip:plantao-noite@pbx"),
        (18, 59, "sip:plantao-noite@pbx"),
    ],
)
def test_plantao_windows(hour: int, minute: int, target: str) -> None:
    st_ = status_at(SPEC, sp(2026, 3, 4, hour, minute))
    assert st_ == Status(True, True, target, "plantao")


def test_plantao_ends_are_exclusive() -> None:
    assert status_at(SPEC, sp(2026, 3, 4, 8)) == Status(True, False, None, "open")
    assert status_at(SPEC, sp(2026, 3, 4, 13, 30)) == Status(True, False, None, "open")
    assert status_at(SPEC, sp(2026, 3, 4, 11, 59, 59)).plantao is False


def test_closing_and_opening_edges() -> None:
    assert status_at(SPEC, sp(2026, 3, 4, 19)) == Status(
        False, False, None, "after_hours"
    )
    assert status_at(SPEC, sp(2026, 3, 4, 18, 59, 59)).open is True
    assert status_at(SPEC, sp(2026, 3, 4, 6, 59)) == Status(
        False, False, None, "after_hours"
    )
    assert status_at(SPEC, sp(2026, 3, 4, 6, 59, 59)).open is False
    assert status_at(SPEC, sp(2026, 3, 4, 23, 59)).reason == "after_hours"


@pytest.mark.parametrize("day", [7, 8])  # Saturday, Sunday
def test_weekend_closed(day: int) -> None:
    for hour in (7, 10, 12, 18):
        st_ = status_at(SPEC, sp(2026, 3, day, hour))
        assert st_.open is False
        assert st_.reason == "weekend_or_closed_day"


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 12, 25), "Natal"),
        (date(2026, 11, 20), "Dia Nacional de Zumbi e da Consciência Negra"),
    ],
)
def test_national_holiday_closed_all_day(day: date, name: str) -> None:
    for hour, minute in ((7, 0), (7, 30), (10, 0), (12, 45), (18, 30)):
        st_ = status_at(SPEC, datetime.combine(day, time(hour, minute), SP))
        assert st_ == Status(False, False, None, "national_holiday", name)


def test_state_holiday_only_plantao() -> None:
    day = date(2026, 7, 9)  # Revolução Constitucionalista, SP only, Thursday

    def at(h: int, m: int = 0) -> Status:
        return status_at(SPEC, datetime.combine(day, time(h, m), SP))

    assert at(7, 30) == Status(
        True, True, "sip:plantao-manha@pbx", "plantao", "Revolução Constitucionalista"
    )
    assert at(12, 45).on_duty == "sip:plantao-almoco@pbx"
    assert at(18, 30).on_duty == "sip:plantao-noite@pbx"
    for h, m in ((8, 0), (10, 0), (13, 30), (17, 59)):
        assert at(h, m) == Status(
            False, False, None, "local_holiday", "Revolução Constitucionalista"
        )
    assert at(19).open is False
    assert at(6, 59).open is False


def test_state_holiday_ignored_without_subdivision() -> None:
    spec = shipped_spec(subdivision=None)
    assert status_at(spec, sp(2026, 7, 9, 10)).reason == "open"


def test_city_anniversary_via_local_yearly() -> None:
    # 2027-01-25 is a Monday.
    assert status_at(SPEC, sp(2027, 1, 25, 7, 30)) == Status(
        True, True, "sip:plantao-manha@pbx", "plantao"
    )
    assert status_at(SPEC, sp(2027, 1, 25, 10)) == Status(
        False, False, None, "local_holiday"
    )
    # Same rule every year (2028-01-25 is a Tuesday), and not the day after.
    assert status_at(SPEC, sp(2028, 1, 25, 10)).reason == "local_holiday"
    assert status_at(SPEC, sp(2027, 1, 26, 10)).reason == "open"


def test_local_holiday_on_saturday_stays_closed() -> None:
    # 2025-01-25 is a Saturday: plantão windows do not open a closed weekday.
    assert date(2025, 1, 25).weekday() == 5
    st_ = status_at(SPEC, sp(2025, 1, 25, 7, 30))
    assert st_.open is False
    assert st_.reason == "weekend_or_closed_day"


def test_local_dates_entry() -> None:
    spec = shipped_spec(local_dates=(date(2026, 3, 4),))
    assert status_at(spec, sp(2026, 3, 4, 12, 15)).reason == "plantao"
    assert status_at(spec, sp(2026, 3, 4, 15)).reason == "local_holiday"
    assert status_at(spec, sp(2026, 3, 5, 15)).reason == "open"


def test_closed_dates_entry() -> None:
    spec = shipped_spec(closed_dates=(date(2026, 3, 4),))
    for hour in (7, 10, 12, 18):
        assert status_at(spec, sp(2026, 3, 4, hour)) == Status(
            False, False, None, "closed_date"
        )
    assert status_at(spec, sp(2026, 3, 5, 10)).open is True


def test_closed_date_beats_local_holiday() -> None:
    spec = shipped_spec(closed_dates=(date(2026, 7, 9),))
    assert status_at(spec, sp(2026, 7, 9, 7, 30)).reason == "closed_date"


def test_country_none_ignores_holidays() -> None:
    spec = shipped_spec(country=None, subdivision=None, local_yearly=())
    assert status_at(spec, sp(2026, 12, 25, 10)).reason == "open"


def test_now_in_utc_is_converted() -> None:
    # 10:30 UTC is 07:30 in São Paulo.
    st_ = status_at(SPEC, datetime(2026, 11, 30, 10, 30, tzinfo=UTC))
    assert st_ == Status(True, True, "sip:plantao-manha@pbx", "plantao")
    # 21:59 UTC = 18:59 SP (open); 22:00 UTC = 19:00 SP (closed).
    assert status_at(SPEC, datetime(2026, 11, 30, 21, 59, tzinfo=UTC)).open is True
    assert status_at(SPEC, datetime(2026, 11, 30, 22, 0, tzinfo=UTC)).open is False
    # Saturday 01:00 UTC is still Friday 22:00 in São Paulo: after hours, not weekend.
    assert status_at(SPEC, datetime(2026, 3, 7, 1, tzinfo=UTC)).reason == "after_hours"
    tokyo = datetime(2026, 3, 4, 23, tzinfo=ZoneInfo("Asia/Tokyo"))  # 11:00 SP
    assert status_at(SPEC, tokyo).reason == "open"


def test_naive_now_rejected() -> None:
    with pytest.raises(ValueError):
        status_at(SPEC, datetime(2026, 3, 4, 10))
    with pytest.raises(ValueError):
        next_opening(SPEC, datetime(2026, 3, 4, 10))


def test_status_is_exact_at_every_instant_around_a_minute_boundary() -> None:
    """One status is kept per minute: the instants either side of a boundary still differ,
    asked in any order, and the same instant asked from another zone agrees."""
    spec = shipped_spec()
    before = sp(2026, 3, 4, 18, 59, 59) + timedelta(microseconds=999_999)
    boundary = sp(2026, 3, 4, 19)
    for _ in range(2):
        assert status_at(spec, before).open is True
        assert status_at(spec, boundary).open is False
        assert status_at(spec, before.astimezone(UTC)).open is True
    assert status_at(spec, sp(2026, 3, 4, 7, 59, 30)).on_duty == "sip:plantao-manha@pbx"
    assert status_at(spec, sp(2026, 3, 4, 8, 0, 0)).plantao is False


def test_windows_with_seconds_are_judged_to_the_second() -> None:
    """Menus only express whole minutes, but the schedule API takes any time: no minute is
    shared when a window starts mid-minute."""
    spec = shipped_spec(weekly=((Window(time(10, 0, 30), time(19)),),) * 5 + ((), ()),
                        plantao=())
    assert status_at(spec, sp(2026, 3, 4, 10, 0, 10)).open is False
    assert status_at(spec, sp(2026, 3, 4, 10, 0, 40)).open is True
    assert status_at(spec, sp(2026, 3, 4, 10, 0, 10)).open is False


def test_a_day_open_until_midnight_is_open_in_its_last_minute() -> None:
    spec = shipped_spec(weekly=((Window(time(20), time.max),),) * 7, plantao=())
    assert status_at(spec, sp(2026, 3, 4, 23, 59, 0)).open is True
    assert status_at(spec, sp(2026, 3, 4, 23, 59, 59)).open is True
    assert status_at(spec, sp(2026, 3, 5, 0, 0, 0)).open is False


def test_plantao_only_inside_open_window() -> None:
    # A plantão window reaching past the weekly window does not extend the day.
    spec = shipped_spec(plantao=(Window(time(18), time(20), on_duty="x"),))
    assert status_at(spec, sp(2026, 3, 4, 18, 30)).plantao is True
    assert status_at(spec, sp(2026, 3, 4, 19, 30)).open is False
    assert status_at(spec, sp(2026, 7, 9, 19, 30)).open is False


def test_invalid_specs_rejected() -> None:
    with pytest.raises(ValueError):
        Window(time(19), time(7))
    with pytest.raises(ValueError):
        shipped_spec(weekly=(OPEN_WINDOW,) * 5)
    with pytest.raises(ValueError):
        shipped_spec(subdivision="XX")
    with pytest.raises(ValueError):
        shipped_spec(country=None)  # subdivision SP without a country
    with pytest.raises(ValueError):
        shipped_spec(local_yearly=((2, 30),))
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError
        shipped_spec(timezone="Mars/Olympus")


def test_holiday_calendar_contents() -> None:
    cal = holiday_calendar(SPEC, 2026)
    assert holiday_calendar(SPEC, 2026) == cal
    assert date(2026, 12, 25) in cal.national
    assert date(2026, 7, 9) in cal.local and date(2026, 7, 9) not in cal.national
    assert date(2026, 1, 25) in cal.local
    assert (
        date(2026, 1, 25)
        not in holiday_calendar(shipped_spec(local_yearly=()), 2026).local
    )
    # An equal spec rebuilt from the same config has the same calendar.
    assert holiday_calendar(shipped_spec(), 2026) == cal


# --- next_opening / describe_next_opening -----------------------------------


def test_friday_evening_opens_monday() -> None:
    now = sp(2026, 3, 6, 19, 30)  # Friday
    op = next_opening(SPEC, now)
    assert op == sp(2026, 3, 9, 7)
    assert (
        op is not None
        and op.tzinfo is not None
        and op.utcoffset() == timedelta(hours=-3)
    )
    assert str(op.tzinfo) == "America/Sao_Paulo"
    assert describe_next_opening(op, now) == "segunda-feira às 7h"


def test_early_morning_opens_today() -> None:
    now = sp(2026, 3, 4, 5)
    op = next_opening(SPEC, now)
    assert op == sp(2026, 3, 4, 7)
    assert describe_next_opening(op, now) == "hoje às 7h"


def test_thursday_night_opens_tomorrow() -> None:
    now = sp(2026, 3, 5, 20)
    op = next_opening(SPEC, now)
    assert op == sp(2026, 3, 6, 7)
    assert describe_next_opening(op, now) == "amanhã às 7h"


def test_while_open_next_opening_is_next_period() -> None:
    # 13:31 Wednesday is open (plantão over): the next *opening* is tomorrow.
    assert next_opening(SPEC, sp(2026, 3, 4, 13, 31)) == sp(2026, 3, 5, 7)
    # Strictly after: exactly at an opening, the next one is meant.
    assert next_opening(SPEC, sp(2026, 3, 4, 7)) == sp(2026, 3, 5, 7)
    assert next_opening(SPEC, sp(2026, 3, 4, 6, 59, 59)) == sp(2026, 3, 4, 7)


def test_across_christmas() -> None:
    now = sp(2026, 12, 24, 19, 30)  # Thursday; 25th is a Friday holiday
    op = next_opening(SPEC, now)
    assert op == sp(2026, 12, 28, 7)
    assert describe_next_opening(op, now) == "segunda-feira às 7h"


def test_state_holiday_openings_are_plantao_windows() -> None:
    now = sp(2026, 7, 9, 8, 30)
    op = next_opening(SPEC, now)
    assert op == sp(2026, 7, 9, 12)
    assert describe_next_opening(op, now) == "hoje às 12h"
    assert next_opening(SPEC, sp(2026, 7, 9, 13, 30)) == sp(2026, 7, 9, 18)
    assert next_opening(SPEC, sp(2026, 7, 9, 19)) == sp(2026, 7, 10, 7)
    # The day before a local holiday: the holiday's first plantão is the opening.
    assert next_opening(SPEC, sp(2026, 7, 8, 20)) == sp(2026, 7, 9, 7)


def test_opening_with_minutes() -> None:
    lunch_break = (Window(time(8), time(12)), Window(time(13, 30), time(18)))
    spec = shipped_spec(weekly=(lunch_break,) * 5 + ((), ()), plantao=())
    now = sp(2026, 3, 4, 12, 10)
    assert status_at(spec, now).reason == "after_hours"
    op = next_opening(spec, now)
    assert op == sp(2026, 3, 4, 13, 30)
    assert describe_next_opening(op, now) == "hoje às 13h30"
    assert status_at(spec, sp(2026, 3, 4, 13, 29, 59)).open is False
    assert status_at(spec, sp(2026, 3, 4, 13, 30)).open is True


def test_more_than_six_days_away_includes_date() -> None:
    # Collective holidays between Christmas and New Year.
    closed = tuple(date(2026, 12, d) for d in range(28, 32))
    spec = shipped_spec(closed_dates=closed)
    now = sp(2026, 12, 24, 20)
    op = next_opening(spec, now)
    assert op == sp(2027, 1, 4, 7)
    assert describe_next_opening(op, now) == "segunda-feira, 4 de janeiro, às 7h"


@pytest.mark.parametrize(
    ("now", "opening", "expected"),
    [
        (sp(2026, 1, 5, 10), sp(2026, 1, 5, 13, 30), "hoje às 13h30"),
        (sp(2026, 1, 5, 10), sp(2026, 1, 6, 12), "amanhã às 12h"),
        (sp(2026, 1, 5, 10), sp(2026, 1, 7, 7, 5), "quarta-feira às 7h05"),
        (sp(2026, 1, 5, 10), sp(2026, 1, 10, 9), "sábado às 9h"),
        (sp(2026, 1, 5, 10), sp(2026, 1, 11, 9), "domingo às 9h"),
        (sp(2026, 1, 5, 10), sp(2026, 1, 12, 7), "segunda-feira, 12 de janeiro, às 7h"),
        (sp(2025, 12, 29, 10), sp(2026, 1, 5, 7), "segunda-feira, 5 de janeiro, às 7h"),
    ],
)
def test_describe_next_opening_phrases(
    now: datetime, opening: datetime, expected: str
) -> None:
    assert describe_next_opening(opening, now) == expected


def test_describe_next_opening_day_boundary_in_opening_zone() -> None:
    # 23:30 São Paulo is already the next day in UTC; "today" must follow São Paulo.
    now_utc = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)  # Wed 23:30 in São Paulo
    assert describe_next_opening(sp(2026, 3, 5, 7), now_utc) == "amanhã às 7h"
    assert describe_next_opening(sp(2026, 3, 4, 23, 45), now_utc) == "hoje às 23h45"


def test_next_opening_none_when_never_open() -> None:
    spec = shipped_spec(weekly=((),) * 7)
    assert next_opening(spec, sp(2026, 3, 4, 10)) is None


def test_next_opening_respects_dst_gap() -> None:
    # New York springs forward at 02:00 on 2026-03-08: a 02:30 window start
    # does not exist that day, so the line really opens at 03:00 EDT.
    ny = ZoneInfo("America/New_York")
    night = (Window(time(2, 30), time(5)),)
    spec = ScheduleSpec(
        name="night", timezone="America/New_York", weekly=(night,) * 7, country=None
    )
    op = next_opening(spec, datetime(2026, 3, 8, 1, tzinfo=ny))
    assert op is not None
    assert op.astimezone(UTC) == datetime(2026, 3, 8, 7, tzinfo=UTC)  # 03:00 EDT
    assert status_at(spec, op).open is True
    # Subtract in UTC: aware-datetime arithmetic in a DST zone is wall-clock.
    assert status_at(spec, op.astimezone(UTC) - timedelta(seconds=1)).open is False


# --- describe_hours ---------------------------------------------------------


def test_describe_hours_shipped() -> None:
    assert (
        describe_hours(SPEC)
        == "de segunda a sexta-feira, das 7h às 19h, exceto feriados"
    )


def test_describe_hours_mixed() -> None:
    # Unsorted on purpose.
    weekday = (Window(time(13, 30), time(18)), Window(time(8), time(12)))
    saturday = (Window(time(8), time(12, 30)),)
    spec = shipped_spec(
        weekly=(weekday,) * 5 + (saturday, ()),
        country=None,
        subdivision=None,
        local_yearly=(),
    )
    assert describe_hours(spec) == (
        "de segunda a sexta-feira, das 8h às 12h e das 13h30 às 18h, e sábado, das 8h às 12h30"
    )


def test_describe_hours_non_contiguous_and_pairs() -> None:
    w = (Window(time(9), time(17)),)
    spec = shipped_spec(weekly=(w, (), w, (), (), w, w))
    assert describe_hours(spec) == (
        "segunda-feira, das 9h às 17h, quarta-feira, das 9h às 17h, "
        "e sábado e domingo, das 9h às 17h, exceto feriados"
    )
    spec2 = shipped_spec(weekly=(w, w) + ((),) * 5)
    assert describe_hours(spec2).startswith("segunda e terça-feira, das 9h às 17h")


# --- property ---------------------------------------------------------------

ZONES = st.sampled_from(
    [SP, UTC, ZoneInfo("Asia/Tokyo"), timezone(timedelta(hours=-3))]
)


def _oracle_next_opening(spec: ScheduleSpec, t: datetime) -> datetime:
    """Brute force, minute by minute: the first minute m > t with closed -> open at m.

    Valid because every window edge of SPEC is on a whole minute and São
    Paulo has no DST in 2026–2028, so status is constant on [m - 1min, m).
    """
    m = t.astimezone(SP).replace(second=0, microsecond=0) + timedelta(minutes=1)
    prev_open = status_at(spec, m - timedelta(minutes=1)).open
    while True:
        now_open = status_at(spec, m).open
        if now_open and not prev_open:
            return m
        prev_open = now_open
        m += timedelta(minutes=1)


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2028, 12, 31),
        timezones=ZONES,
    )
)
def test_next_opening_property(t: datetime) -> None:
    op = next_opening(SPEC, t)
    assert op is not None
    assert op > t
    assert op - t <= timedelta(days=30)
    assert op.utcoffset() == timedelta(hours=-3)
    st_open = status_at(SPEC, op)
    assert st_open.open is True
    # An opening is a closed -> open transition, never a normal -> plantão switch.
    assert status_at(SPEC, op - timedelta(microseconds=1)).open is False
    assert status_at(SPEC, op - timedelta(minutes=1)).open is False
    # And it is the first such transition after t.
    assert op == _oracle_next_opening(SPEC, t)
