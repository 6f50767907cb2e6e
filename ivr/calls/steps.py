"""Which webhook replies the call record needs, and what a step keeps of the caller's keys: pure
decisions, written by the recorder."""

from __future__ import annotations

from ivr.actions import Reply
from ivr.speech.digits import mentions_number
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


# A step's result: what only the request knew (a password checked, a ticket read), kept so replay
# gives the call the outcome it had. A transfer's result is the provider's DialCallStatus.
LOGIN_OK = "login_ok"
LOGIN_FAILED = "login_failed"
TICKET_FOUND = "ticket_found"
TICKET_NOT_FOUND = "ticket_not_found"
RECORDED = "recorded"
ERROR = "error"  # the apology of a failure

MAX_KEY_COUNT = 999  # a body may carry thousands of "digits"; no prompt asks for more than 64


def kept_keys(digits: str, secret: bool) -> str | None:
    """What a step keeps of the keys pressed: a single key (a menu option, the repeat key...),
    never an entry of several (a CPF, a password, a ticket number: replay needs only how many)
    nor anything keyed at a ``secret`` prompt."""
    return digits if len(digits) == 1 and not secret else None


MAX_SAID = 100  # characters of a spoken answer kept for replay; a menu answer is a few words


def kept_speech(speech: str, secret: bool) -> str | None:
    """What a step keeps of the words said, for replay to match them again (against an edited
    menu's synonyms): nothing at a ``secret`` prompt, and nothing that mentions a number (a CPF
    said where a menu listened; digits said are kept as keys are, by ``kept_keys``)."""
    if secret or not speech.strip() or mentions_number(speech):
        return None
    return speech[:MAX_SAID]


def dial_result(status: str | None) -> str:
    """A transfer's status as a step keeps it: the provider's word, or ``unknown``."""
    word = (status or "").strip().lower()[:32]
    return word if word and word.replace("-", "").isalpha() and word.isascii() else "unknown"
