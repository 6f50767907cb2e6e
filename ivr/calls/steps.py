"""Which webhook replies the call record needs: a pure decision, written by the recorder."""

from __future__ import annotations

from datetime import datetime

from ivr.actions import Reply
from ivr.calls.events import CallStarted, CallStepped
from ivr.state import CallState


def step_of(call_sid: str, state: CallState | None, reply: Reply, at: datetime,
            caller: CallStarted) -> CallStepped | None:
    """The step to record for ``reply`` given at ``state`` (None: the call's first webhook).

    Only what the record needs: a move to another node or an outcome. A new call, a repeat, a
    wrong key or a silence at the same node records nothing; the status callback fills in the
    rest (a call that never left the main menu is recorded there).
    """
    # Where the call is now: the state the reply sends the provider back with, if any.
    reached = getattr(reply.then, "resume", None)
    here = reached.state if reached is not None else state
    if not call_sid or here is None:
        return None
    moved = state is None or here.node != state.node
    if not moved and reply.outcome is None:
        return None
    return CallStepped(call_sid, here.path, here.node, reply.outcome, at, caller)
