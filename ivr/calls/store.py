"""The calls table's writes: steps merged into one upsert, and the status callback's completion.

Steps from different workers can land out of order, so every column is
merged by rule: the newest step (by time) wins for the path and outcome, the start and end
fields keep the first value they get.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
    records never fail a call."""
    try:
        with database.transaction() as session:
            upsert_calls(session, _merge(events))
    except Exception:
        log.exception("could not write %d call record steps; dropped", len(events))
        return False
    return True


def _merge(batch: Sequence[Step]) -> list[dict[str, Any]]:
    """One row per CallSid, in the shape of the upsert."""
    rows: dict[str, dict[str, Any]] = {}
    for event in batch:
        row = rows.setdefault(event.call_sid, {
            "call_sid": event.call_sid, "from_number": None, "to_number": None,
            "started_at": None, "path": "", "steps": 0, "last_node": None,
            "outcome": None, "outcome_detail": None, "updated_at": None,
        })
        started = event if isinstance(event, CallStarted) else event.started
        if started is not None:
            row["from_number"] = row["from_number"] or started.from_number
            row["to_number"] = row["to_number"] or started.to_number
            row["started_at"] = row["started_at"] or started.at
        if isinstance(event, CallStarted):
            continue
        row["steps"] += 1
        if row["updated_at"] is None or event.at >= row["updated_at"]:
            row["path"] = ",".join(event.path)
            row["last_node"] = event.node
            row["updated_at"] = event.at
            if event.outcome is not None:
                row["outcome"] = event.outcome.kind
                row["outcome_detail"] = event.outcome.detail[:255]
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
    # The text form SQLAlchemy's DateTime uses on SQLite, in UTC like every UTCDateTime.
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _as_is(value: datetime | None) -> datetime | None:
    return value


def upsert_calls(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    time = _sqlite_time if dialect == "sqlite" else _as_is
    params: list[Any] = []
    for row in rows:  # in COLUMNS order, spelt out: this loop runs for every step recorded
        params += (row["call_sid"], row["from_number"], row["to_number"],
                   time(row["started_at"]), row["path"], row["steps"], row["last_node"],
                   row["outcome"], row["outcome_detail"], time(row["updated_at"]))
    width = len(COLUMNS)
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        count = min(ROWS_PER_STATEMENT, len(rows) - start)
        chunk = params[start * width:(start + count) * width]
        connection.exec_driver_sql(_upsert_sql(_PLACEHOLDER[dialect], count), tuple(chunk))


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
