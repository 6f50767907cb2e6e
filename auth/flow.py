"""The phone login dialogue: CPF then ``#``, password then ``#``, then on to where the caller was
heading. Pure: it gets the menu, where the call is, the caller's keys and retry counters, what the
login service answered and the time, and returns a ``Reply``; the views do the look-ups and the
writes (``auth.pending``, ``auth.service``).

A step's keys first go through ``on_cpf_keys`` or ``on_password_keys``: a repeat or a silence is
answered from the keys alone (a ``Reply``); anything else comes back as ``Entered``, for the view
to check against the database, and the service's answer goes to ``after_login``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from auth.documents import is_valid_cpf, normalize_document
from ivr import engine
from ivr.actions import Ask, Hangup, Listen, Outcome, Reply, Resume, Speech, say
from ivr.menu import Menu
from ivr.speech.digits import spoken_digits
from ivr.speech.heard import Heard
from ivr.speech.menus import number_listen
from ivr.state import CallState

# The webhook endpoints of the login's steps.
LOGIN = engine.LOGIN
CPF_STEP = "auth.cpf"
PASSWORD_STEP = "auth.password"  # noqa: S105 - an endpoint name

CPF_TIMEOUT = 8  # seconds: eleven digits read off a document take a while
PASSWORD_TIMEOUT = 6
MAX_SILENCES = 2  # asked again once, then let go
MAX_CPF_KEYS = 32  # more is not a CPF, and is not worth normalising
MAX_PASSWORD_KEYS = 64

# The login just succeeded (or had already): the engine goes on to the node that needs it.
LOGGED_IN = engine.CallContext(is_logged_in=lambda: True)


@dataclass(frozen=True)
class Entered:
    """Keys to check against the database: the CPF (normalised; ``valid`` when its check digits
    are right) or the password. Never shown: a CPF or password must not reach the logs."""

    keys: str = field(repr=False)
    valid: bool = True


class LoginAnswer(Protocol):
    """What the login service answered (``auth.service.LoginResult``), as far as the caller may
    hear it: a locked contact is ``failed`` here."""

    @property
    def speakable(self) -> str: ...

    @property
    def delay_seconds(self) -> int: ...

    @property
    def first_name(self) -> str | None: ...


def _ask(endpoint: str, state: CallState, speech: tuple[Speech, ...], timeout: int,
         silences: int, listen: Listen | None = None) -> Ask:
    # No numDigits: '#' ends the entry at once, so a quick caller never waits for a timeout.
    return Ask(Resume(endpoint, state, (("q", str(silences)),)), speech, timeout=timeout,
               num_digits=None, finish_on_key="#", listen=listen)


def ask_cpf(menu: Menu, state: CallState, lead: tuple[Speech, ...] = (), silences: int = 0,
            again: bool = False) -> Reply:
    """The CPF may also be said, digit by digit."""
    wording = menu.wording
    listen = number_listen(menu)
    if listen is None:
        text = wording.login_ask_cpf_again if again else wording.login_ask_cpf
    else:
        text = wording.login_ask_cpf_again_spoken if again else wording.login_ask_cpf_spoken
    return Reply(then=_ask(CPF_STEP, state, lead + say(text), CPF_TIMEOUT, silences, listen))


def ask_password(menu: Menu, state: CallState, lead: tuple[Speech, ...] = (),
                 silences: int = 0) -> Reply:
    """Keypad only, whatever the line's speech setting: a password is never said aloud."""
    speech = lead + say(menu.wording.login_ask_password)
    return Reply(then=_ask(PASSWORD_STEP, state, speech, PASSWORD_TIMEOUT, silences))


def wait(seconds: int) -> tuple[Speech, ...]:
    """The growing delay after failures. It must come FIRST in the speech: the renderer plays
    leading pauses before the ``<Gather>``, where keying cannot cut them short."""
    return (Speech(pause=seconds),) if seconds > 0 else ()


def let_go(menu: Menu, state: CallState) -> Reply:
    return Reply(speech=say(menu.wording.login_let_go), then=Hangup(),
                 outcome=Outcome("gave_up", f"login:{state.node}"))


def too_many(menu: Menu, state: CallState) -> Reply:
    wording = menu.wording
    # One sentence said; the help with the registration only where the line has that option.
    recover = " ".join(text for text in (wording.login_recover, wording.login_registration_help,
                                         wording.goodbye) if text)
    return Reply(speech=say(wording.login_failed, recover), then=Hangup(),
                 outcome=Outcome("login_failed", state.node))


def ends_call(reply: Reply) -> bool:
    """The reply hangs up (the caller let go): whatever the call keyed goes with it."""
    return isinstance(reply.then, Hangup)


def at_login(menu: Menu, state: CallState, now: datetime, logged_in: bool) -> Reply:
    """The engine sent the caller here on the way to ``state.node``. Already logged in on this
    call (a replayed URL after a good login): carry on there."""
    if logged_in:
        return engine.enter(menu, state, now, LOGGED_IN)
    return ask_cpf(menu, state)


def _silence(menu: Menu, state: CallState, silences: int,
             ask_again: Callable[[tuple[Speech, ...], int], Reply]) -> Reply:
    silences += 1
    if silences >= MAX_SILENCES:
        return let_go(menu, state)
    return ask_again(say(menu.wording.login_silence), silences)


def on_cpf_answer(menu: Menu, state: CallState, heard: Heard, silences: int
                  ) -> Reply | Entered:
    """Keys as ``on_cpf_keys``; else the digits said ("cinco dois nove..."). Words that are not
    digits are asked again, like a silence (and like one, only once)."""
    if heard.kind != "speech" or number_listen(menu) is None:
        return on_cpf_keys(menu, state, heard.keys, silences)
    digits = spoken_digits(heard.speech)
    if digits is None:
        return _silence(menu, state, silences, lambda lead, count: ask_cpf(
            menu, state, say(menu.wording.login_not_understood), count, again=True))
    return on_cpf_keys(menu, state, digits, silences)


def on_cpf_keys(menu: Menu, state: CallState, keyed: str, silences: int) -> Reply | Entered:
    """The repeat key asks again, nothing (or only punctuation) is a silence, anything else is a
    CPF to check: an invalid one is refused before any look-up, yet counts as a failure."""
    keys = keyed.strip()
    if keys == menu.settings.repeat_key:
        return ask_cpf(menu, state, silences=silences)
    digits = normalize_document(keys)[:MAX_CPF_KEYS]
    if not digits:
        return _silence(menu, state, silences,
                        lambda lead, count: ask_cpf(menu, state, lead, count, again=True))
    return Entered(digits, valid=is_valid_cpf(digits))


def on_password_keys(menu: Menu, state: CallState, keyed: str, silences: int) -> Reply | Entered:
    """The repeat key asks again (the CPF stays pending and nothing counts as a try), nothing is a
    silence, anything else is the password to check."""
    if keyed.strip() == menu.settings.repeat_key:
        return ask_password(menu, state, silences=silences)
    if not keyed:
        return _silence(menu, state, silences,
                        lambda lead, count: ask_password(menu, state, lead, count))
    return Entered(keyed[:MAX_PASSWORD_KEYS])


def start_over(menu: Menu, state: CallState) -> Reply:
    """A password with no CPF pending (a replayed URL, another call's state, keyed too long ago,
    or used by a concurrent request of the call): the login starts again, and nothing counts."""
    return ask_cpf(menu, state)


def after_login(menu: Menu, state: CallState, now: datetime, result: LoginAnswer) -> Reply:
    """Welcome by first name and on to where the caller was heading; after the call's third
    failure, where to get a new password and goodbye; else the delay, why, and the CPF again."""
    if result.speakable == "ok":
        wording = menu.wording
        welcome = say(wording.login_welcome.format(name=result.first_name) if result.first_name
                      else wording.login_thanks)
        # The line-wide slowdown holds a good password too: silence must not tell it apart.
        return engine.enter(menu, state, now, LOGGED_IN, wait(result.delay_seconds) + welcome)
    if result.speakable == "too_many_in_call":
        return too_many(menu, state)
    why = menu.wording.login_invalid_cpf if result.speakable == "invalid_cpf" \
        else menu.wording.login_failed
    return ask_cpf(menu, state, wait(result.delay_seconds) + say(why), again=True)
