"""The phone login webhooks: CPF then ``#``, password then ``#``, then on to where the caller
was heading. Translation only: the form and the URL in, ``auth.pending`` and ``auth.service`` for
the database (they own its rules), ``auth.flow`` for what the caller hears, TwiML out.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g

from auth import flow, pending
from auth.service import LoginResult, check_login, current_login, record_login, verify_login
from database.flask_ext import request_session
from ivr import signals
from ivr.action_urls import call_state, query_counter
from ivr.calls.steps import LOGIN_FAILED, LOGIN_OK
from ivr.current import now, registry
from ivr.menu import Menu
from ivr.provider import Form, answer_of, provider_webhook
from ivr.respond import answer
from ivr.state import CallState

bp = Blueprint("auth", __name__, url_prefix="/voice/auth")


def _where() -> tuple[Menu, CallState]:
    """The menu served now and where the call is (the main menu, for a URL without a state)."""
    menu = registry().current()
    return menu, call_state() or CallState(node=menu.settings.main_menu)


def _announce(result: LoginResult) -> None:
    if result.reason is not None:
        signals.announce_login_checked(result.reason)


def _silences() -> int:
    return query_counter("q")


@bp.post("/login")
@provider_webhook
def login(form: Form) -> Response:
    menu, state = _where()
    logged_in = bool(g.call_sid) and current_login(request_session(), g.call_sid) is not None
    return answer(flow.at_login(menu, state, now(), logged_in), menu, state,
                  result=LOGIN_OK if logged_in else None)


@bp.post("/cpf")
@provider_webhook
def cpf(form: Form) -> Response:
    menu, state = _where()
    keyed = flow.on_cpf_answer(menu, state, answer_of(form), _silences())
    if not isinstance(keyed, flow.Entered):
        return answer(keyed, menu, state, secret=True)
    session = request_session()
    call_sid = g.call_sid or "-"
    moment = now()
    if not keyed.valid:
        # Refused before any look-up (so no bcrypt); still counts toward the call's 3 failures.
        result = verify_login(session, cpf=keyed.keys, password="", call_sid=call_sid,
                              caller=form.get("From"), now=moment,
                              rounds=current_app.config["BCRYPT_ROUNDS"],
                              pepper=current_app.config["PASSWORD_PEPPER"])
        session.commit()
        _announce(result)
        return answer(flow.after_login(menu, state, moment, result), menu, state,
                      result=_login_result(result.speakable), secret=True)
    pending.remember_cpf(session, call_sid, keyed.keys, moment)
    session.commit()
    return answer(flow.ask_password(menu, state), menu, state, secret=True)


@bp.post("/password")
@provider_webhook
def password(form: Form) -> Response:
    menu, state = _where()
    keyed = flow.on_password_keys(menu, state, form.get("Digits", ""), _silences())
    session = request_session()
    call_sid = g.call_sid or "-"
    if not isinstance(keyed, flow.Entered):
        if flow.ends_call(keyed):  # let go: the CPF keyed goes with the call
            pending.forget(session, call_sid)
            session.commit()
        return answer(keyed, menu, state, secret=True)
    moment = now()
    # Reads and bcrypt first, every write after: SQLite's write lock (one for the whole
    # database) is taken at a transaction's first write, and no writer should wait on bcrypt.
    entry = pending.peek_cpf(session, call_sid, moment)
    if entry is None:
        session.commit()  # a stale entry was deleted
        return answer(flow.start_over(menu, state), menu, state, secret=True)
    check = check_login(session, cpf=entry.cpf, password=keyed.keys, call_sid=call_sid,
                        caller=form.get("From"), now=moment,
                        rounds=current_app.config["BCRYPT_ROUNDS"],
                        pepper=current_app.config["PASSWORD_PEPPER"])
    if not pending.consume(session, entry):
        # A concurrent request of this call used the entry meanwhile: one try per CPF entry.
        session.rollback()
        return answer(flow.start_over(menu, state), menu, state, secret=True)
    result = record_login(session, check)
    session.commit()
    _announce(result)
    return answer(flow.after_login(menu, state, moment, result), menu, state,
                  result=_login_result(result.speakable), secret=True)


def _login_result(speakable: str) -> str:
    """What the call's step keeps of a login (replay cannot check a password)."""
    return LOGIN_OK if speakable == "ok" else LOGIN_FAILED
