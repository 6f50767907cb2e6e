"""Call record events as lines of JSON: how workers hand them to the writer process.

One event per line, so a reader can always tell a whole event from a cut one. Values are the
provider's and the menu's (numbers, node names, outcomes): never a CPF or a password.
"""

from __future__ import annotations

import json
from datetime import datetime

from ivr.actions import Outcome
from ivr.calls.events import CallCompleted, CallStarted, CallStepped, Event


def encode(event: Event) -> bytes:
    if isinstance(event, CallStepped):
        started = event.started
        fields: list[object] = [
            "s", event.call_sid, list(event.path), event.node,
            None if event.outcome is None else [event.outcome.kind, event.outcome.detail],
            event.at.isoformat(),
            None if started is None else [started.from_number, started.to_number,
                                          None if started.at is None else started.at.isoformat()],
        ]
    elif isinstance(event, CallCompleted):
        fields = ["c", event.call_sid, event.status, event.ended_at.isoformat(), event.duration,
                  event.from_number, event.to_number, event.first_node]
    else:
        fields = ["b", event.call_sid, event.from_number, event.to_number,
                  None if event.at is None else event.at.isoformat()]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _time(value: object) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def decode(line: bytes) -> Event:
    """Raises ValueError (or a subclass) on anything that is not a whole event."""
    fields = json.loads(line)
    if not isinstance(fields, list) or not fields:
        raise ValueError("not an event")
    kind = fields[0]
    if kind == "s":
        _, call_sid, path, node, outcome, at, started = fields
        return CallStepped(
            call_sid=str(call_sid), path=tuple(str(p) for p in path), node=str(node),
            outcome=None if outcome is None else Outcome(str(outcome[0]), str(outcome[1])),
            at=_time(at) or _missing("at"),
            started=None if started is None else CallStarted(
                str(call_sid), started[0], started[1], _time(started[2])),
        )
    if kind == "c":
        _, call_sid, status, ended_at, duration, from_number, to_number, first_node = fields
        return CallCompleted(
            call_sid=str(call_sid), status=str(status), ended_at=_time(ended_at) or _missing("end"),
            duration=None if duration is None else int(duration), from_number=from_number,
            to_number=to_number, first_node=str(first_node),
        )
    if kind == "b":
        _, call_sid, from_number, to_number, at = fields
        return CallStarted(str(call_sid), from_number, to_number, _time(at))
    raise ValueError(f"unknown event kind {kind!r}")


def _missing(name: str) -> datetime:
    raise ValueError(f"event without {name}")
