"""The webhook's answer: the step noted for the call record, then the reply as TwiML."""

from __future__ import annotations

from flask import Response, current_app, g, request

from ivr.action_urls import resume_url
from ivr.actions import Reply
from ivr.calls.events import CallStarted
from ivr.calls.steps import step_of
from ivr.current import now, recorder
from ivr.menu import Menu
from ivr.provider import caller_number
from ivr.rendering import render
from ivr.state import CallState
from ivr.twiml import voice_of

TWIML = "text/xml; charset=utf-8"


def answer(reply: Reply, menu: Menu, state: CallState | None = None) -> Response:
    """Record where ``reply`` takes the call from ``state`` (None: a new call), then answer."""
    record_step(reply, state)
    response = twiml_response(reply, menu)
    records = recorder()
    if records.flush_is_due():
        # Runs once the response has been sent, before the worker takes the next request.
        response.call_on_close(records.flush)
    return response


def record_step(reply: Reply, state: CallState | None) -> None:
    form = g.get("form") or {}
    # The start time comes from the status callback (end minus duration).
    caller = CallStarted(g.get("call_sid", ""), caller_number(form.get("From")),
                         caller_number(form.get("To")), None)
    step = step_of(caller.call_sid, state, reply, now(), caller)
    if step is not None:
        recorder().record(step)


def twiml_response(reply: Reply, menu: Menu) -> Response:
    # Everything the action URLs depend on besides the reply: cached documents never cross it.
    scope = (current_app.config["PUBLIC_BASE_URL"] or "") + request.script_root
    return Response(render(reply, voice_of(menu), resume_url, scope), mimetype=TWIML)
