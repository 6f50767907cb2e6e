"""The calls table's writes: steps merged into one upsert, and the status callback's completion.

Steps from different workers can land out of order, so every column is
merged by rule: the newest step (by time) wins for the path and outcome, the start and end
fields keep the first value they get.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from database.session import Database
from database.upsert import Upsert, upsert
from ivr.calls.events import CallCompleted, CallStarted, CallStepped, Step, StepTaken
from ivr.calls.models import Call, CallStep

log = logging.getLogger(__name__)


def write_steps(database: Database, events: Sequence[Step]) -> bool:
    """One upsert for the batch, in its own transaction. False (logged) when it failed: call
    records never fail a call (the recorder keeps the batch and tries again).

    A Core connection, not a Session: a busy worker runs this after every few dozen responses,
    and the ORM's transaction bookkeeping cost more than the rows themselves. The Connection
    still does what a raw driver connection would not: a lost server refreshes the whole pool
    once, and a failed statement is rolled back before the connection goes back.
    """
    steps = [event for event in events if isinstance(event, StepTaken)]
    moves = [event for event in events if not isinstance(event, StepTaken)]
    try:
        with database.engine.connect() as connection:
            _upsert(connection, _merge(moves))
            _insert_steps(connection, steps)
            connection.commit()
    except DBAPIError as error:
        # A database that is down or restarting says so at every try: one line, no traceback.
        log.warning("could not write %d call record steps: %s", len(events),
                    (str(error.orig or error).splitlines() or [type(error).__name__])[0][:200])
        return False
    except Exception:
        log.exception("could not write %d call record steps", len(events))
        return False
    return True


Row = dict[str, Any]  # one calls row, by column name


def _merge(batch: Sequence[CallStarted | CallStepped]) -> list[Row]:
    """One row per CallSid (an upsert cannot touch one row twice)."""
    rows: dict[str, Row] = {}
    for event in batch:
        row = rows.get(event.call_sid)
        if row is None:
            row = rows[event.call_sid] = {
                "call_sid": event.call_sid, "from_number": None, "to_number": None,
                "started_at": None, "path": "", "steps": 0, "last_node": None, "outcome": None,
                "outcome_detail": None, "updated_at": None, "transfer_result": None,
            }
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
        if event.outcome is not None and event.outcome.kind == "unanswered":
            row["transfer_result"] = event.outcome.detail[:96]
    return list(rows.values())


def upsert_calls(session: Session, rows: list[Row]) -> None:
    """Rows given by column name (every column of ``_merge``'s rows), written in the
    session's transaction."""
    _upsert(session.connection(), rows)


# Rows per INSERT statement. SQLAlchemy also keeps each statement under the database's limit
# on parameters (SQLite's is 32,766; this is 5,000).
ROWS_PER_STATEMENT = 500


def _upsert(connection: Connection, rows: list[Row]) -> None:
    if rows:
        connection.execute(_statement(connection), rows).close()


_statements: dict[str, Executable] = {}


def _statement(connection: Connection) -> Executable:
    """The upsert for this database, built once: the same statement object each time lets
    SQLAlchemy find its compiled form without building a cache key again.

    Given many rows, SQLAlchemy sends them as one ``INSERT ... VALUES (...), (...), ...`` per
    ``ROWS_PER_STATEMENT`` rows ("insertmanyvalues"), which it does for a statement with
    RETURNING: hence the RETURNING, whose rows are not read. One statement per batch rather
    than one per row: the writer thread releases and retakes the GIL once per statement, and
    every retake can stall the thread answering webhooks.
    """
    statement = _statements.get(connection.dialect.name)
    if statement is None:
        statement = _statements[connection.dialect.name] = (
            _merging(upsert(connection, Call))
            .returning(Call.call_sid)
            .execution_options(insertmanyvalues_page_size=ROWS_PER_STATEMENT)
        )
    return statement


def _merging(statement: Upsert) -> Upsert:
    """Every column merged by rule with the row already there, whichever step came first."""
    new = statement.excluded
    # A step wins when it is newer; at the same instant (a frozen clock, or two steps within
    # the clock's resolution) the longer path is the later step.
    newer = and_(
        new.updated_at.is_not(None),
        or_(
            Call.updated_at.is_(None),
            new.updated_at > Call.updated_at,
            and_(new.updated_at == Call.updated_at,
                 func.length(new.path) >= func.length(Call.path)),
        ),
    )
    with_outcome = and_(new.outcome.is_not(None), newer)

    def step_wins(column: str, when: ColumnElement[bool] = newer) -> ColumnElement[Any]:
        return case((when, new[column]), else_=getattr(Call, column))

    return statement.on_conflict_do_update(
        index_elements=[Call.call_sid],
        set_={
            # The first value known stays.
            "from_number": func.coalesce(Call.from_number, new.from_number),
            "to_number": func.coalesce(Call.to_number, new.to_number),
            "started_at": func.coalesce(Call.started_at, new.started_at),
            "steps": Call.steps + new.steps,
            "path": step_wins("path"),
            "last_node": step_wins("last_node"),
            "outcome": step_wins("outcome", with_outcome),
            "outcome_detail": step_wins("outcome_detail", with_outcome),
            "updated_at": step_wins("updated_at"),
            "transfer_result": case(
                (and_(new.transfer_result.is_not(None),
                      or_(Call.transfer_result.is_(None), newer)), new.transfer_result),
                else_=Call.transfer_result),
        },
    )


def _insert_steps(connection: Connection, steps: list[StepTaken]) -> None:
    """The batch's steps, one multi-row INSERT per ``ROWS_PER_STATEMENT`` like the calls'
    upsert. A step already there (a provider's retry landing in the same microsecond) stays."""
    if steps:
        connection.execute(_step_statement(connection),
                           [step._asdict() for step in steps]).close()


def _step_statement(connection: Connection) -> Executable:
    key = f"steps-{connection.dialect.name}"
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = (
            upsert(connection, CallStep)
            .on_conflict_do_nothing(index_elements=[CallStep.call_sid, CallStep.seq])
            .returning(CallStep.seq)
            .execution_options(insertmanyvalues_page_size=ROWS_PER_STATEMENT)
        )
    return statement


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
        "outcome_detail": None, "updated_at": None, "transfer_result": None,
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
