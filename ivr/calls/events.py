"""What a webhook tells the call record: a call seen, a step taken, a call ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.actions import Outcome


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


@dataclass(frozen=True)
class CallCompleted:
    """The provider's status callback: the call is over."""

    call_sid: str
    status: str
    ended_at: datetime
    duration: int | None
    from_number: str | None
    to_number: str | None
    first_node: str  # the main menu: where a call that never moved was


Step = CallStarted | CallStepped  # what the recorder queues; completions are written at once
