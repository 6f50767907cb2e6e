"""The calls table's writes: steps merged into one upsert, and the status callback's completion.

Steps from different workers can land out of order, so every column is
merged by rule: the newest step (by time) wins for the path and outcome, the start and end
fields keep the first value they get.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, literal, literal_column, update
from sqlalchemy.orm import Session

from database.session import Database
from ivr.calls.events import CallCompleted, CallStarted, Step
from ivr.calls.models import Call

log = logging.getLogger(__name__)


def write_steps(database: Database, events: Sequence[Step]) -> bool:
    """One upsert for the batch, in its own transaction. False (logged) when it failed: call
    records never fail a call.

    A Core connection, not a Session: a busy worker runs this after every few dozen responses,
    and the ORM's transaction bookkeeping cost more than the rows themselves. The Connection
    still does what a raw driver connection would not: a lost server refreshes the whole pool
    once, and a failed statement is rolled back before the connection goes back.
    """
    try:
        with database.engine.connect() as connection:
            _upsert(connection.exec_driver_sql, connection.dialect.name, _merge(events))
            connection.commit()
    except Exception:
        log.exception("could not write %d call record steps; dropped", len(events))
        return False
    return True


Row = list[Any]  # one calls row, in COLUMNS order

# Positions in a Row, for the merge.
_FROM, _TO, _STARTED, _PATH, _STEPS, _LAST, _OUTCOME, _DETAIL, _UPDATED = range(1, 10)


def _merge(batch: Sequence[Step]) -> list[Row]:
    """One row per CallSid, in COLUMNS order (an upsert cannot touch one row twice)."""
    rows: dict[str, Row] = {}
    for event in batch:
        row = rows.get(event.call_sid)
        if row is None:
            row = rows[event.call_sid] = [event.call_sid, None, None, None, "", 0, None, None,
                                          None, None]
        started = event if isinstance(event, CallStarted) else event.started
        if started is not None:
            row[_FROM] = row[_FROM] or started.from_number
            row[_TO] = row[_TO] or started.to_number
            row[_STARTED] = row[_STARTED] or started.at
        if isinstance(event, CallStarted):
            continue
        row[_STEPS] += 1
        if row[_UPDATED] is None or event.at >= row[_UPDATED]:
            row[_PATH] = ",".join(event.path)
            row[_LAST] = event.node
            row[_UPDATED] = event.at
            if event.outcome is not None:
                row[_OUTCOME] = event.outcome.kind
                row[_DETAIL] = event.outcome.detail[:255]
    return list(rows.values())


COLUMNS = ("call_sid", "from_number", "to_number", "started_at", "path", "steps", "last_node",
           "outcome", "outcome_detail", "updated_at")

# A step wins when it is newer; at the same instant (a frozen clock, or two steps within the
# clock's resolution) the longer path is the later step.
_NEWER = ("excluded.updated_at IS NOT NULL AND (calls.updated_at IS NULL"
          " OR excluded.updated_at > calls.updated_at"
          " OR (excluded.updated_at = calls.updated_at"
          " AND length(excluded.path) >= length(calls.path)))")


def _step_wins(column: str, *, needs: str = "updated_at") -> str:
    return (f"{column} = CASE WHEN excluded.{needs} IS NOT NULL AND {_NEWER}"
            f" THEN excluded.{column} ELSE calls.{column} END")


@lru_cache(maxsize=64)
def _upsert_sql(placeholder: str, rows: int) -> str:
    """One statement for the whole batch, written out rather than built with the ORM.

    A single statement means the writer thread releases and retakes the GIL once per batch
    instead of once per row: every retake can stall the thread answering webhooks.
    """
    row = "(" + ", ".join([placeholder] * len(COLUMNS)) + ")"
    values = ", ".join([row] * rows)
    return (
        f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES {values} "  # noqa: S608 - constants
        "ON CONFLICT (call_sid) DO UPDATE SET "
        "from_number = COALESCE(calls.from_number, excluded.from_number), "
        "to_number = COALESCE(calls.to_number, excluded.to_number), "
        "started_at = COALESCE(calls.started_at, excluded.started_at), "
        "steps = calls.steps + excluded.steps, "
        + ", ".join([
            _step_wins("path"),
            _step_wins("last_node"),
            _step_wins("outcome", needs="outcome"),
            _step_wins("outcome_detail", needs="outcome"),
            _step_wins("updated_at"),
        ])
    )


_PLACEHOLDER = {"sqlite": "?", "postgresql": "%s"}
# SQLite allows 32,766 parameters in a statement; stay well below.
ROWS_PER_STATEMENT = 500


def _sqlite_time(value: datetime | None) -> str | None:
    # The text form SQLAlchemy's DateTime uses on SQLite, in UTC like every UTCDateTime
    # (isoformat: a third of strftime's cost, and this runs for every step recorded).
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _as_is(value: datetime | None) -> datetime | None:
    return value


def upsert_calls(session: Session, rows: list[dict[str, Any]]) -> None:
    """Rows given by column name, written in the session's transaction."""
    connection = session.connection()
    _upsert(connection.exec_driver_sql, connection.dialect.name,
            [[row[column] for column in COLUMNS] for row in rows])


def _upsert(execute: Callable[[str, tuple[Any, ...]], object], dialect: str,
            rows: list[Row]) -> None:
    if not rows:
        return
    time = _sqlite_time if dialect == "sqlite" else _as_is
    params: list[Any] = []
    for row in rows:
        params += row
        # The two times as the driver takes them (rows themselves are left as given).
        params[-len(COLUMNS) + _STARTED] = time(row[_STARTED])
        params[-len(COLUMNS) + _UPDATED] = time(row[_UPDATED])
    width = len(COLUMNS)
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        count = min(ROWS_PER_STATEMENT, len(rows) - start)
        chunk = params[start * width:(start + count) * width]
        execute(_upsert_sql(_PLACEHOLDER[dialect], count), tuple(chunk))


def complete_call(session: Session, done: CallCompleted) -> None:
    """The provider's status callback: end time, duration and, if nothing else, "hung up".

    Steps are recorded only when a call moves to another node or something happens to it, so a
    call that never left ``first_node`` (the main menu) gets its whole record here.
    """
    call_sid, ended_at, duration, first_node = (done.call_sid, done.ended_at, done.duration,
                                                done.first_node)
    started = ended_at - timedelta(seconds=duration) if duration is not None else None
    upsert_calls(session, [{
        "call_sid": call_sid, "from_number": done.from_number, "to_number": done.to_number,
        "started_at": started, "path": "", "steps": 0, "last_node": None, "outcome": None,
        "outcome_detail": None, "updated_at": None,
    }])
    last_node = func.coalesce(Call.last_node, literal(first_node))
    values: dict[str, Any] = {
        "final_status": done.status,
        "ended_at": ended_at,
        "duration_seconds": duration,
        "last_node": last_node,
        "path": case((Call.path == "", first_node), else_=Call.path),
        "outcome": func.coalesce(Call.outcome, literal_column("'hung_up'")),
        "outcome_detail": case((Call.outcome.is_(None), last_node), else_=Call.outcome_detail),
    }
    if started is not None:
        values["started_at"] = started  # the provider's own count beats our first step's time
    session.execute(update(Call).where(Call.call_sid == call_sid).values(**values))
