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
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from database.session import Database
from ivr.actions import Outcome
from ivr.calls.models import Call

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
MAX_BATCH = 1000


@dataclass(frozen=True)
class CallStarted:
    call_sid: str
    from_number: str | None
    to_number: str | None
    at: datetime


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

    # -- hot path -------------------------------------------------------------------------

    def record(self, event: Event) -> None:
        self._ensure_thread()
        self._queue.put(event)

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
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for start in range(0, len(batch), MAX_BATCH):
                self._write(batch[start:start + MAX_BATCH])

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


def upsert_calls(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Call)
    new = stmt.excluded
    table = Call.__table__
    # Same instant (a frozen clock, or two steps within the clock's resolution): the longer
    # path is the later step.
    newer = (
        table.c.updated_at.is_(None)
        | (new.updated_at > table.c.updated_at)
        | ((new.updated_at == table.c.updated_at)
           & (func.length(new.path) >= func.length(table.c.path)))
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.call_sid],
        set_={
            "from_number": func.coalesce(table.c.from_number, new.from_number),
            "to_number": func.coalesce(table.c.to_number, new.to_number),
            "started_at": func.coalesce(table.c.started_at, new.started_at),
            "steps": table.c.steps + new.steps,
            "path": case((new.updated_at.is_not(None) & newer, new.path), else_=table.c.path),
            "last_node": case((new.updated_at.is_not(None) & newer, new.last_node),
                              else_=table.c.last_node),
            "outcome": case((new.outcome.is_not(None) & newer, new.outcome),
                            else_=table.c.outcome),
            "outcome_detail": case((new.outcome.is_not(None) & newer, new.outcome_detail),
                                   else_=table.c.outcome_detail),
            "updated_at": case((new.updated_at.is_not(None) & newer, new.updated_at),
                               else_=table.c.updated_at),
        },
    )
    session.execute(stmt, rows)


def complete_call(
    session: Session,
    call_sid: str,
    *,
    status: str,
    ended_at: datetime,
    duration: int | None,
    from_number: str | None,
    to_number: str | None,
) -> None:
    """The provider's status callback: end time, duration and, if nothing else, "hung up"."""
    started = ended_at - timedelta(seconds=duration) if duration is not None else None
    upsert_calls(session, [{
        "call_sid": call_sid, "from_number": from_number, "to_number": to_number,
        "started_at": started, "path": "", "steps": 0, "last_node": None, "outcome": None,
        "outcome_detail": None, "updated_at": None,
    }])
    session.execute(
        update(Call)
        .where(Call.call_sid == call_sid)
        .values(
            final_status=status,
            ended_at=ended_at,
            duration_seconds=duration,
            outcome=func.coalesce(Call.outcome, literal_column("'hung_up'")),
            outcome_detail=case(
                (Call.outcome.is_(None), Call.last_node), else_=Call.outcome_detail
            ),
        )
    )
