"""Writes call records off the hot path.

Webhook handlers only append to an in-process queue; a background thread per worker writes
batches with one upsert each. A crash loses at most the last fraction of a second of steps,
which SPEC §5 allows ("at most the step in flight"), and no caller waits on the database.

Steps from different workers can land out of order, so every column is merged by rule: the
newest step (by time) wins for the path and outcome, the start and end fields keep the first
value they get.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, literal_column, update
from sqlalchemy.orm import Session

from database.session import Database
from ivr.actions import Outcome
from ivr.calls.models import Call

log = logging.getLogger(__name__)

# Busy workers write small batches in the gap after sending a response, so no second thread
# competes with the caller's request for the CPU; the background thread writes what a quiet
# worker leaves queued.
INLINE_BATCH = 64
FLUSH_SECONDS = 0.5
MAX_BATCH = 500


@dataclass(frozen=True)
class CallStarted:
    call_sid: str
    from_number: str | None
    to_number: str | None
    at: datetime | None  # None: not known here (the status callback's duration will say)


@dataclass(frozen=True)
class CallStepped:
    call_sid: str
    path: tuple[str, ...]
    node: str
    outcome: Outcome | None
    at: datetime
    # Set on the first step of a call: one event instead of a start and a step.
    started: CallStarted | None = None


Event = CallStarted | CallStepped


class CallRecorder:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()
        self._closed = False

    # -- hot path -------------------------------------------------------------------------

    def record(self, event: Event) -> None:
        self._ensure_thread()
        self._queue.put(event)

    def flush_is_due(self) -> bool:
        """Enough is queued to write in the gap after this response (see ``ivr.webhook``)."""
        return self._queue.qsize() >= INLINE_BATCH

    # -- writer ---------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # gunicorn forks after the app is built: one writer per worker, started lazily.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._run, name="call-recorder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get()
            except Exception:  # noqa: BLE001 - interpreter shutting down
                return
            batch = [first]
            # Gather what arrives within the flush window, then write all of it, so the queue
            # cannot outgrow the writer however busy the worker is.
            time.sleep(FLUSH_SECONDS)
            if self._closed:
                return  # close() wrote everything; this database may no longer be ours
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for start in range(0, len(batch), MAX_BATCH):
                self._write(batch[start:start + MAX_BATCH])

    def close(self) -> None:
        """Write what is queued and stop writing (a worker shutting down, a test ending)."""
        self.flush()
        self._closed = True

    def flush(self) -> None:
        """Write whatever is queued now (status callback, tests, shutdown)."""
        batch: list[Event] = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if batch:
            self._write(batch)

    def _write(self, batch: list[Event]) -> None:
        rows = _merge(batch)
        with self._flush_lock:
            if self._closed:
                return
            try:
                with self.database.transaction() as session:
                    upsert_calls(session, rows)
            except Exception:
                log.exception("could not write %d call records; dropped", len(rows))


def _merge(batch: list[Event]) -> list[dict[str, Any]]:
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


def upsert_calls(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    timestamps = ("started_at", "updated_at")
    params: list[Any] = []
    for row in rows:
        if dialect == "sqlite":
            params.extend(_sqlite_time(row[c]) if c in timestamps else row[c] for c in COLUMNS)
        else:
            params.extend(row[c] for c in COLUMNS)
    connection = session.connection()
    width = len(COLUMNS)
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        count = min(ROWS_PER_STATEMENT, len(rows) - start)
        chunk = params[start * width:(start + count) * width]
        connection.exec_driver_sql(_upsert_sql(_PLACEHOLDER[dialect], count), tuple(chunk))


def complete_call(
    session: Session,
    call_sid: str,
    *,
    status: str,
    ended_at: datetime,
    duration: int | None,
    from_number: str | None,
    to_number: str | None,
    first_node: str,
) -> None:
    """The provider's status callback: end time, duration and, if nothing else, "hung up".

    Steps are recorded only when a call moves to another node or something happens to it, so a
    call that never left ``first_node`` (the main menu) gets its whole record here.
    """
    started = ended_at - timedelta(seconds=duration) if duration is not None else None
    upsert_calls(session, [{
        "call_sid": call_sid, "from_number": from_number, "to_number": to_number,
        "started_at": started, "path": "", "steps": 0, "last_node": None, "outcome": None,
        "outcome_detail": None, "updated_at": None,
    }])
    last_node = func.coalesce(Call.last_node, literal_column("'" + first_node + "'"))
    values: dict[str, Any] = {
        "final_status": status,
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
