"""Which webhook replies the call record needs: a pure decision, written by the recorder."""

from __future__ import annotations

from ivr.actions import Reply
from ivr.state import CallState


def reached(state: CallState | None, reply: Reply) -> CallState | None:
    """Where ``reply`` given at ``state`` (None: the call's first webhook) takes the call, when
    the record needs it: a move to another node or an outcome. A new call, a repeat, a wrong key
    or a silence at the same node records nothing; the status callback fills in the rest (a call
    that never left the main menu is recorded there)."""
    resume = getattr(reply.then, "resume", None)
    here = resume.state if resume is not None else state
    if here is None:
        return None
    if state is not None and here.node == state.node and reply.outcome is None:
        return None
    return here
