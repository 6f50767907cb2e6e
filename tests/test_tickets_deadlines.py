"""The acceptance rules of §10 with the clock injected, checked at the exact instants."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tickets import deadlines
from tickets.deadlines import (
    REASON_ALREADY_POSTPONED,
    REASON_AUTO_CLOSED,
    REASON_CLOSED,
    REASON_NO_SOLUTION,
    SAO_PAULO,
    deadline_for,
)
from tickets.enums import ClosedHow, TicketStatus

US = timedelta(microseconds=1)


@dataclass(frozen=True)
class FakeTicket:
    status: str = TicketStatus.SOLUTION_PROPOSED
    solution_at: datetime | None = None
    postponed: bool = False
    closed_at: datetime | None = None
    closed_how: str | None = None


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       microsecond: int = 0) -> datetime:
    """An instant given in São Paulo wall-clock time."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SAO_PAULO)


# 2026-11-20 16:00 in São Paulo; day D = 20 Nov, last day 5 Dec, deadline 6 Dec 00:00 (-03:00).
SOLVED = FakeTicket(solution_at=sp(2026, 11, 20, 16, 0))
DEADLINE = sp(2026, 12, 6, 0, 0)


def test_deadline_is_end_of_15th_day_after_solution_day_sao_paulo_time() -> None:
    end = deadlines.deadline(SOLVED)
    assert end == DEADLINE
    assert end == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert end.tzinfo == UTC
    assert deadlines.last_day(SOLVED) == date(2026, 12, 5)


def test_deadline_boundary_instant_is_exclusive() -> None:
    just_before = DEADLINE - US
    assert deadlines.can_accept(SOLVED, just_before).allowed
    assert deadlines.effective_status(SOLVED, just_before) is TicketStatus.SOLUTION_PROPOSED
    assert deadlines.days_remaining(SOLVED, just_before) == 1

    assert deadlines.effective_status(SOLVED, DEADLINE) is TicketStatus.CLOSED
    assert deadlines.can_accept(SOLVED, DEADLINE) == (False, REASON_AUTO_CLOSED)
    assert deadlines.days_remaining(SOLVED, DEADLINE) == 0


def test_solution_day_is_taken_in_sao_paulo_not_utc() -> None:
    # 23:30 on 20 Nov in São Paulo is already 21 Nov in UTC; the day that counts is 20 Nov.
    late = FakeTicket(solution_at=sp(2026, 11, 20, 23, 30))
    assert late.solution_at is not None
    assert late.solution_at.astimezone(UTC).date() == date(2026, 11, 21)
    assert deadlines.deadline(late) == DEADLINE
    # And 00:00 on 21 Nov in São Paulo is the next day.
    next_day = FakeTicket(solution_at=sp(2026, 11, 21, 0, 0))
    assert deadlines.deadline(next_day) == DEADLINE + timedelta(days=1)


def test_solution_at_in_any_offset_gives_same_deadline() -> None:
    assert SOLVED.solution_at is not None
    in_utc = FakeTicket(solution_at=SOLVED.solution_at.astimezone(UTC))
    assert deadlines.deadline(in_utc) == DEADLINE


def test_reminder_due_four_days_before_deadline() -> None:
    due = deadlines.reminder_at(SOLVED)
    assert due == sp(2026, 12, 2, 0, 0)
    assert due == DEADLINE - timedelta(days=4)
    assert not deadlines.reminder_due(SOLVED, due - US)
    assert deadlines.reminder_due(SOLVED, due)
    assert deadlines.days_remaining(SOLVED, due) == 4
    assert deadlines.days_remaining(SOLVED, due - US) == 5
    assert deadlines.reminder_due(SOLVED, DEADLINE - US)
    # Past the deadline there is nothing left to remind of.
    assert not deadlines.reminder_due(SOLVED, DEADLINE)


def test_reminder_follows_the_postponed_deadline() -> None:
    postponed = replace(SOLVED, postponed=True)
    assert deadlines.reminder_at(postponed) == sp(2027, 1, 16, 0, 0)
    assert not deadlines.reminder_due(postponed, sp(2026, 12, 10, 12, 0))


def test_one_postponement_adds_45_calendar_days() -> None:
    now = sp(2026, 12, 1, 10, 0)
    assert deadlines.can_postpone(SOLVED, now) == (True, "")
    postponed = replace(SOLVED, postponed=True)
    assert deadlines.deadline(postponed) == DEADLINE + timedelta(days=45)
    assert deadlines.deadline(postponed) == sp(2027, 1, 20, 0, 0)
    assert deadlines.last_day(postponed) == date(2027, 1, 19)
    # The original deadline no longer closes it.
    assert deadlines.effective_status(postponed, DEADLINE) is TicketStatus.SOLUTION_PROPOSED
    assert deadlines.can_accept(postponed, sp(2027, 1, 19, 23, 59)).allowed
    assert not deadlines.can_accept(postponed, sp(2027, 1, 20, 0, 0)).allowed


def test_second_postponement_refused() -> None:
    postponed = replace(SOLVED, postponed=True)
    verdict = deadlines.can_postpone(postponed, sp(2026, 12, 1, 10, 0))
    assert verdict == (False, REASON_ALREADY_POSTPONED)
    assert verdict.reason == "o prazo já foi prorrogado uma vez"


def test_postponing_at_or_after_the_deadline_refused() -> None:
    assert deadlines.can_postpone(SOLVED, DEADLINE - US).allowed
    assert deadlines.can_postpone(SOLVED, DEADLINE) == (False, REASON_AUTO_CLOSED)
    assert deadlines.can_postpone(SOLVED, DEADLINE + timedelta(days=3)) == (
        False,
        REASON_AUTO_CLOSED,
    )


def test_past_deadline_counts_as_closed_automatically_at_once() -> None:
    closing = deadlines.effective_closing(SOLVED, DEADLINE + timedelta(hours=1))
    assert closing == (DEADLINE, ClosedHow.AUTOMATIC)
    assert deadlines.effective_closing(SOLVED, DEADLINE - US) is None
    assert deadlines.is_overdue(SOLVED, DEADLINE)
    assert not deadlines.is_overdue(SOLVED, DEADLINE - US)


def test_accept_and_reject_after_deadline_refused() -> None:
    late = DEADLINE + timedelta(minutes=1)
    assert deadlines.can_accept(SOLVED, late) == (False, REASON_AUTO_CLOSED)
    assert deadlines.can_reject(SOLVED, late) == (False, REASON_AUTO_CLOSED)
    assert deadlines.can_leave_message(SOLVED, late) == (False, REASON_AUTO_CLOSED)
    assert "novo chamado" in REASON_AUTO_CLOSED


@pytest.mark.parametrize(
    "status",
    [TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_CUSTOMER],
)
def test_no_solution_registered(status: TicketStatus) -> None:
    ticket = FakeTicket(status=status)
    now = sp(2026, 12, 1, 10, 0)
    assert deadlines.deadline(ticket) is None
    assert deadlines.effective_status(ticket, now) is status
    assert deadlines.can_accept(ticket, now) == (False, REASON_NO_SOLUTION)
    assert deadlines.can_postpone(ticket, now) == (False, REASON_NO_SOLUTION)
    assert deadlines.can_reject(ticket, now) == (False, REASON_NO_SOLUTION)
    assert deadlines.can_leave_message(ticket, now).allowed
    assert not deadlines.reminder_due(ticket, now)


def test_solution_proposed_without_solution_date_has_no_solution() -> None:
    ticket = FakeTicket(solution_at=None)
    assert deadlines.can_accept(ticket, sp(2026, 12, 1)) == (False, REASON_NO_SOLUTION)


def test_closed_ticket_refuses_everything() -> None:
    accepted = FakeTicket(
        status=TicketStatus.CLOSED,
        solution_at=SOLVED.solution_at,
        closed_at=sp(2026, 11, 25, 9, 0),
        closed_how=ClosedHow.ACCEPTED,
    )
    now = sp(2026, 11, 26, 9, 0)
    for check in (deadlines.can_accept, deadlines.can_postpone, deadlines.can_reject):
        assert check(accepted, now) == (False, REASON_CLOSED)
    assert deadlines.effective_closing(accepted, now) == (
        sp(2026, 11, 25, 9, 0),
        ClosedHow.ACCEPTED,
    )
    recorded_auto = replace(accepted, closed_how=ClosedHow.AUTOMATIC, closed_at=DEADLINE)
    assert deadlines.can_accept(recorded_auto, now) == (False, REASON_AUTO_CLOSED)


def test_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        deadlines.effective_status(SOLVED, datetime(2026, 12, 1, 10, 0))


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2090, 1, 1),
        timezones=st.just(UTC),
    ),
    st.booleans(),
)
def test_deadline_properties_for_any_solution_time(solution_at: datetime, postponed: bool) -> None:
    ticket = FakeTicket(solution_at=solution_at, postponed=postponed)
    end = deadlines.deadline(ticket)
    assert end is not None
    local_end = end.astimezone(SAO_PAULO)
    # Always the first instant of a São Paulo day (00:00; 01:00 on the days daylight saving
    # time began, until 2019), a fixed number of local days after the solution day.
    assert (end - US).astimezone(SAO_PAULO).date() == local_end.date() - timedelta(days=1)
    assert (local_end.minute, local_end.second) == (0, 0) and local_end.hour in (0, 1)
    days = 16 + (45 if postponed else 0)
    assert local_end.date() - solution_at.astimezone(SAO_PAULO).date() == timedelta(days=days)
    assert deadlines.can_accept(ticket, end - US).allowed
    assert not deadlines.can_accept(ticket, end).allowed


def test_the_deadline_of_a_repeated_local_hour_follows_the_instant() -> None:
    """23:30 happens twice in Santiago on 6 April 2024 (clocks go back at midnight): the two
    instants compare equal as local times but are an hour apart, and the second one falls on
    the next São Paulo day. A cache keyed by the local time would answer both alike."""
    santiago = ZoneInfo("America/Santiago")
    first = datetime(2024, 4, 6, 23, 30, tzinfo=santiago)
    second = first.replace(fold=1)
    assert deadline_for(first, False) != deadline_for(second, False)
    assert deadline_for(second, False) - deadline_for(first, False) == timedelta(days=1)


@given(
    status=st.sampled_from(list(TicketStatus)),
    solved=st.one_of(st.none(), st.integers(0, 40)),
    postponed=st.booleans(),
    closed_how=st.one_of(st.none(), st.sampled_from(list(ClosedHow))),
    hours_later=st.integers(0, 24 * 70),
)
def test_all_choices_at_once_are_the_single_verdicts(
    status: TicketStatus, solved: int | None, postponed: bool, closed_how: ClosedHow | None,
    hours_later: int,
) -> None:
    """The ticket menu asks ``choices`` once instead of the four ``can_*``: same answers."""
    start = sp(2026, 11, 1, 9, 0)
    solution_at = start + timedelta(days=solved) if solved is not None else None
    ticket = FakeTicket(status=status, solution_at=solution_at, postponed=postponed,
                        closed_at=start if status == TicketStatus.CLOSED else None,
                        closed_how=closed_how if status == TicketStatus.CLOSED else None)
    now = start + timedelta(hours=hours_later)
    assert deadlines.choices(ticket, now) == (
        deadlines.can_leave_message(ticket, now),
        deadlines.can_accept(ticket, now),
        deadlines.can_postpone(ticket, now),
        deadlines.can_reject(ticket, now),
    )
