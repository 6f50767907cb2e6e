"""``--from DATE --to DATE`` of the report commands (``surveys export``, ``ouvidoria list``):
whole days of the line's time zone, both ends included."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVarTuple
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

Columns = TypeVarTuple("Columns")

LINE_ZONE = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class Period:
    start: datetime | None  # inclusive, UTC; None: from the first record
    end: datetime | None  # exclusive, UTC; None: to the last

    def within(self, statement: Select[*Columns],
               column: InstrumentedAttribute[datetime]) -> Select[*Columns]:
        """``statement`` narrowed to the rows whose ``column`` falls in the period."""
        if self.start is not None:
            statement = statement.where(column >= self.start)
        if self.end is not None:
            statement = statement.where(column < self.end)
        return statement


def _day(_ctx: click.Context, _param: click.Parameter, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise click.BadParameter("must be a date, YYYY-MM-DD") from exc


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LINE_ZONE).astimezone(UTC)


def local_time(moment: datetime) -> str:
    """An instant as the line's people read it: ``2026-12-01 10:00``."""
    return moment.astimezone(LINE_ZONE).strftime("%Y-%m-%d %H:%M")


def period_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds ``--from`` and ``--to``; the command receives them as ``period``."""

    @click.option("--to", "to_day", metavar="DATE", callback=_day,
                  help="Last day included (YYYY-MM-DD, São Paulo time).")
    @click.option("--from", "from_day", metavar="DATE", callback=_day,
                  help="First day included (YYYY-MM-DD, São Paulo time).")
    @functools.wraps(command)
    def wrapper(*args: Any, from_day: date | None, to_day: date | None, **kwargs: Any) -> Any:
        if from_day and to_day and to_day < from_day:
            raise click.BadParameter("--to is before --from", param_hint="--to")
        period = Period(_start_of(from_day) if from_day else None,
                        _start_of(to_day + timedelta(days=1)) if to_day else None)
        return command(*args, period=period, **kwargs)

    return wrapper
