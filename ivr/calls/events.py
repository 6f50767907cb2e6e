"""What a webhook tells the call record: a call seen, a step taken, a call ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

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


class StepTaken(NamedTuple):
    """One webhook of a call as replay needs it (``ivr.replay``): where the caller was, what they
    answered, and what only the database knew. A named tuple: one is built on every webhook, at
    a fraction of a frozen dataclass's cost."""

    call_sid: str
    seq: int  # microseconds of the real clock: orders a call's steps, whichever worker served
    at: datetime  # the app's clock (frozen in tests and demos): judges hours on replay
    step: str  # the webhook's endpoint: "ivr.step", "auth.password", "tickets.number"...
    node: str  # where the call was ("" for a URL without a state)
    input_kind: str  # dtmf | speech | none
    keys: str | None  # a single key as pressed; None when nothing was keyed or it is kept back
    key_count: int  # how many keys were pressed: all a secret step keeps
    result: str | None  # what replay cannot know: login_ok, ticket_not_found, busy...
    outcome: str | None  # the reply's outcome, as in the call record
    outcome_detail: str | None
    # Words said (speech), for replay; never at a secret prompt nor with a number in them.
    said: str | None = None
    confidence: float | None = None  # the provider's, for the words said


# What the recorder queues; completions are written at once.
Step = CallStarted | CallStepped | StepTaken
