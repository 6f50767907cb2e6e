"""Recorded calls read back for replay (``ivr.replay``): each call's steps, in order."""

from __future__ import annotations

from sqlalchemy import select

from database.session import Database
from ivr.calls.models import START_STEP, CallStep
from ivr.replay import RecordedCall, RecordedStep

_SIDS_PER_QUERY = 500  # well under every database's limit on parameters


def recent_calls(database: Database, limit: int) -> list[RecordedCall]:
    """The last ``limit`` calls that have recorded steps, oldest first."""
    with database.transaction() as session:
        latest = session.scalars(
            select(CallStep.call_sid).where(CallStep.step == START_STEP)
            .order_by(CallStep.seq.desc()).limit(limit)
        ).all()
        sids = list(dict.fromkeys(reversed(latest)))
        rows: dict[str, list[CallStep]] = {sid: [] for sid in sids}
        for first in range(0, len(sids), _SIDS_PER_QUERY):
            chunk = sids[first:first + _SIDS_PER_QUERY]
            query = select(CallStep).where(CallStep.call_sid.in_(chunk)).order_by(
                CallStep.call_sid, CallStep.seq)
            for row in session.scalars(query):
                rows[row.call_sid].append(row)
    return [_call(sid, steps) for sid, steps in rows.items() if steps]


def _call(call_sid: str, rows: list[CallStep]) -> RecordedCall:
    # The call starts at its first webhook; a retried first webhook answers no prompt.
    first = next((i for i, row in enumerate(rows) if row.step == START_STEP), 0)
    return RecordedCall(
        call_sid=call_sid,
        started_at=rows[first].at,
        steps=tuple(
            RecordedStep(step=row.step, node=row.node, at=row.at, keys=row.keys,
                         key_count=row.key_count, result=row.result, outcome=row.outcome,
                         outcome_detail=row.outcome_detail, said=row.said,
                         confidence=row.confidence)
            for row in rows[first + 1:] if row.step != START_STEP
        ),
    )
