"""The phone login webhooks: CPF then ``#``, password then ``#``, then on to where the caller
was heading. Rules live in ``auth.service``; this module only translates to and from TwiML.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g

from auth import pending, prompts
from auth.documents import is_valid_cpf, normalize_document
from auth.service import check_login, current_login, record_login, verify_login
from database.flask_ext import request_session
from ivr import engine
from ivr.action_urls import call_state, query_counter
from ivr.actions import Ask, Hangup, Outcome, Reply, Resume, Speech, say
from ivr.current import now, registry
from ivr.menu import Menu
from ivr.provider import Form, provider_webhook
from ivr.respond import answer
from ivr.state import CallState

bp = Blueprint("auth", __name__, url_prefix="/voice/auth")

CPF_TIMEOUT = 8  # seconds: eleven digits read off a document take a while
PASSWORD_TIMEOUT = 6
MAX_SILENCES = 2  # asked again once, then let go


def _state(menu: Menu) -> CallState:
    state = call_state()
    return state or CallState(node=menu.settings.main_menu)


def _silences() -> int:
    return query_counter("q")


def _ask(endpoint: str, state: CallState, speech: tuple[Speech, ...], timeout: int,
         silences: int = 0) -> Ask:
    # No numDigits: '#' ends the entry at once, so a quick caller never waits for a timeout.
    return Ask(Resume(endpoint, state, (("q", str(silences)),)), speech, timeout=timeout,
               num_digits=None, finish_on_key="#")


def ask_cpf(state: CallState, lead: tuple[Speech, ...] = (), silences: int = 0,
            again: bool = False) -> Reply:
    text = prompts.ASK_CPF_AGAIN if again else prompts.ASK_CPF
    return Reply(then=_ask("auth.cpf", state, lead + say(text), CPF_TIMEOUT, silences))


def _ask_password(state: CallState, lead: tuple[Speech, ...] = (), silences: int = 0) -> Reply:
    return Reply(then=_ask("auth.password", state, lead + say(prompts.ASK_PASSWORD),
                           PASSWORD_TIMEOUT, silences))


def _wait(seconds: int) -> tuple[Speech, ...]:
    """The growing delay after failures. It must come FIRST in the speech: the renderer plays
    leading pauses before the ``<Gather>``, where keying cannot cut them short."""
    return (Speech(pause=seconds),) if seconds > 0 else ()


def _let_go(state: CallState) -> Reply:
    return Reply(speech=say(prompts.LET_GO), then=Hangup(),
                 outcome=Outcome("gave_up", f"login:{state.node}"))


def _too_many(menu: Menu, state: CallState) -> Reply:
    text = prompts.TOO_MANY.format(portal=menu.settings.portal)
    return Reply(speech=say(prompts.FAILED, text), then=Hangup(),
                 outcome=Outcome("login_failed", state.node))


@bp.post("/login")
@provider_webhook
def login(form: Form) -> Response:
    menu = registry().current()
    state = _state(menu)
    if g.call_sid and current_login(request_session(), g.call_sid) is not None:
        # Replayed URL after a good login: carry on.
        return answer(engine.enter(menu, state, now(), engine.CallContext(lambda: True)), menu,
                     state)
    return answer(ask_cpf(state), menu, state)


@bp.post("/cpf")
@provider_webhook
def cpf(form: Form) -> Response:
    menu = registry().current()
    state = _state(menu)
    keyed = form.get("Digits", "").strip()
    if keyed == menu.settings.repeat_key:
        return answer(ask_cpf(state, silences=_silences()), menu, state)
    digits = normalize_document(keyed)[:32]
    if not digits:
        silences = _silences() + 1
        if silences >= MAX_SILENCES:
            return answer(_let_go(state), menu, state)
        return answer(ask_cpf(state, say(prompts.SILENCE), silences, again=True), menu, state)
    session = request_session()
    if not is_valid_cpf(digits):
        # Refused before any look-up (so no bcrypt); still counts toward the call's 3 failures.
        result = verify_login(session, cpf=digits, password="", call_sid=g.call_sid or "-",
                              caller=form.get("From"), now=now(),
                              rounds=current_app.config["BCRYPT_ROUNDS"])
        session.commit()
        if result.status == "too_many_in_call":
            return answer(_too_many(menu, state), menu, state)
        lead = _wait(result.delay_seconds) + say(prompts.INVALID_CPF)
        return answer(ask_cpf(state, lead, again=True), menu, state)
    pending.remember_cpf(session, g.call_sid or "-", digits, now())
    session.commit()
    return answer(_ask_password(state), menu, state)


@bp.post("/password")
@provider_webhook
def password(form: Form) -> Response:
    menu = registry().current()
    state = _state(menu)
    keyed = form.get("Digits", "")
    call_sid = g.call_sid or "-"
    session = request_session()
    if keyed.strip() == menu.settings.repeat_key:
        # Asked again; the CPF stays pending and nothing counts as a try.
        return answer(_ask_password(state, silences=_silences()), menu, state)
    if not keyed:
        silences = _silences() + 1
        if silences >= MAX_SILENCES:
            pending.forget(session, call_sid)
            session.commit()
            return answer(_let_go(state), menu, state)
        return answer(_ask_password(state, say(prompts.SILENCE), silences), menu, state)
    # Reads and bcrypt first, every write after: SQLite's write lock (one for the whole
    # database) is taken at a transaction's first write, and no writer should wait on bcrypt.
    entry = pending.peek_cpf(session, call_sid, now())
    if entry is None:
        # Out of order (a replayed URL, another call's state) or keyed too long ago: start over.
        session.commit()  # a stale entry was deleted
        return answer(ask_cpf(state), menu, state)
    check = check_login(session, cpf=entry.cpf, password=keyed[:64], call_sid=call_sid,
                        caller=form.get("From"), now=now(),
                        rounds=current_app.config["BCRYPT_ROUNDS"])
    if not pending.consume(session, entry):
        # A concurrent request of this call used the entry meanwhile: one try per CPF entry.
        session.rollback()
        return answer(ask_cpf(state), menu, state)
    result = record_login(session, check)
    session.commit()
    if result.ok:
        welcome = say(prompts.WELCOME.format(name=result.first_name) if result.first_name
                      else "Obrigado.")
        reply = engine.enter(menu, state, now(), engine.CallContext(lambda: True), welcome)
        return answer(reply, menu, state)
    if result.speakable == "too_many_in_call":
        return answer(_too_many(menu, state), menu, state)
    lead = _wait(result.delay_seconds) + say(prompts.FAILED)
    return answer(ask_cpf(state, lead, again=True), menu, state)
