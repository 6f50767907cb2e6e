"""The provider's webhooks for the menu tree. Views only translate: form and URL state in,
engine reply out as TwiML.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, g, jsonify
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from database.flask_ext import get_db, request_session
from database.migrate import schema_is_current
from ivr import engine, fallback, signals
from ivr.action_urls import call_state
from ivr.actions import Reply
from ivr.calls.events import CallCompleted
from ivr.calls.steps import RECORDED, dial_result
from ivr.calls.store import complete_call
from ivr.current import now, recorder, registry
from ivr.logins import call_context
from ivr.menu import Menu
from ivr.menu.schema import TransferNode
from ivr.provider import Form, answer_of, caller_number, caller_on_line, provider_webhook
from ivr.respond import answer
from ivr.state import CallState
from telemetry.metrics import count_transfer, transfer_outcome

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__)

FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


@bp.post("/voice")
@provider_webhook
def incoming(form: Form) -> Response:
    menu = registry().current()
    reply = engine.start(menu, now(), call_context())
    main = menu.settings.main_menu
    return answer(reply, menu, CallState(node=main, path=(main,)))


def _step(form: Form, handle: Callable[[Menu, CallState], Reply],
          result: str | None = None) -> Response:
    """A webhook of a call in progress: its state from the URL, or the main menu again."""
    menu = registry().current()
    state = call_state()
    if state is None:
        return answer(engine.restart(menu, now(), call_context(), menu.settings.menu_changed), menu)
    return answer(handle(menu, state), menu, state, result=result)


@bp.post("/voice/step")
@provider_webhook
def step(form: Form) -> Response:
    return _step(form, lambda menu, state: engine.on_answer(
        menu, state, answer_of(form), now(), call_context()))


@bp.post("/voice/dialed")
@provider_webhook
def dialed(form: Form) -> Response:
    status = form.get("DialCallStatus")

    def on_result(menu: Menu, state: CallState) -> Reply:
        if isinstance(menu.node(state.node), TransferNode):  # the team: a node of the menu
            count_transfer(state.node, transfer_outcome(status))
        return engine.on_dial_result(menu, state, status, now(), call_context(),
                                     caller_on_line=caller_on_line(form))

    return _step(form, on_result, dial_result(status))


@bp.post("/voice/recorded")
@provider_webhook
def recorded(form: Form) -> Response:
    menu = registry().current()
    state = call_state() or CallState(node=menu.settings.main_menu)
    recording = form.get("RecordingUrl")
    return answer(engine.on_recording(menu, state, recording), menu, state,
                  result=RECORDED if recording else None)


@bp.post("/voice/fallback")
@provider_webhook
def failed(form: Form) -> Response:
    """The provider's fallback URL: one of this call's webhooks failed (``ErrorUrl``)."""
    endpoint, state = fallback.failed_webhook(form.get("ErrorUrl", ""))
    return fallback.resume(endpoint, state, form, f"error {form.get('ErrorCode', '-')[:16]}")


@bp.post("/voice/status")
@provider_webhook
def status(form: Form) -> Response:
    """The provider's status callback: completes the call record and announces the call's end
    (``signals.call_ended``), with which the call's login ends."""
    call_sid = g.call_sid
    if not call_sid or form.get("CallStatus") not in FINAL_STATUSES:
        return Response("", status=204)  # progress events (ringing, answered...) change nothing
    duration_raw = form.get("CallDuration", "")
    # A call lasts seconds to hours; anything else is not a duration we can store.
    duration = int(duration_raw) if duration_raw.isascii() and duration_raw.isdigit() \
        and len(duration_raw) <= 6 else None
    recorder().flush()  # this worker's pending steps first, so the record reads in order
    done = CallCompleted(
        call_sid,
        status=(form.get("CallStatus") or "unknown")[:32],
        ended_at=now(),
        duration=duration,
        from_number=caller_number(form.get("From")),
        to_number=caller_number(form.get("To")),
        first_node=registry().current().settings.main_menu,
    )
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    session = request_session()
    try:
        _end_call(app, session, done)
    except SQLAlchemyError as error:
        # The provider sends a status callback once: a database that is down or restarting
        # gets the completion later, from the call recorder, rather than never.
        session.rollback()
        log.warning("call %s: its end is kept to be written later (%s)", call_sid,
                    type(error).__name__)
        recorder().retry_later(lambda: _end_call_later(app, done))
    return Response("", status=204)


def _end_call(app: Flask, session: Session, done: CallCompleted) -> None:
    """One transaction: if the record's completion fails, the login is not ended either, and
    the other way round."""
    complete_call(session, done)
    signals.call_ended.send(app, session=session, call_sid=done.call_sid, status=done.status)
    session.commit()


def _end_call_later(app: Flask, done: CallCompleted) -> None:
    with app.app_context(), get_db().transaction() as session:
        _end_call(app, session, done)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    menu_status = registry().status()
    database_ok = schema_is_current(get_db())
    body = {
        "status": "ok" if database_ok else "degraded",
        "database": "ok" if database_ok else "unreachable or not migrated",
        "menu": menu_status,
        "time": datetime.now().astimezone().isoformat(),
        **signals.health_reports(),
    }
    return jsonify(body), 200 if database_ok else 503
