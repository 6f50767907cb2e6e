"""The webhook's answer: the step noted for the call record, then the reply as TwiML."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request

from ivr.action_urls import resume_url
from ivr.actions import Reply
from ivr.calls.events import CallStarted, CallStepped, StepTaken
from ivr.calls.recorder import CallRecorder
from ivr.calls.steps import MAX_KEY_COUNT, kept_keys, kept_speech, reached
from ivr.menu import Menu
from ivr.provider import answer_of, caller_number
from ivr.rendering import render
from ivr.speech.digits import spoken_digits
from ivr.state import CallState
from ivr.twiml import MIMETYPE, voice_of
from telemetry.metrics import count_transfer


def answer(reply: Reply, menu: Menu, state: CallState | None = None, *,
           result: str | None = None, secret: bool = False) -> Response:
    """Record where ``reply`` takes the call from ``state`` (None: a new call), then answer.

    ``result``: what only this request knew and replay cannot (``login_ok``,
    ``ticket_not_found``, a transfer's status...). ``secret``: the keys answer a prompt for a
    CPF, a password or the like, and are never kept, even a single one.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # one lookup
    records: CallRecorder = app.extensions["call_recorder"]
    if reply.outcome is not None and reply.outcome.kind == "closed":
        # Outside hours: a transfer not attempted. The detail names the team's node, or
        # ``specialist:<ticket>``.
        count_transfer(reply.outcome.detail.partition(":")[0], "closed")
    if record_step(records, app, reply, state, result, secret):
        # Once the response has been sent, before the worker takes the next request.
        response = twiml_response(app, reply, menu)
        response.call_on_close(records.answered)
        return response
    return twiml_response(app, reply, menu)


def record_step(records: CallRecorder, app: Flask, reply: Reply, state: CallState | None,
                result: str | None = None, secret: bool = False) -> bool:
    """Note this webhook's steps for the records (True when there were any)."""
    call_sid: str = g.get("call_sid", "")
    if not call_sid:
        return False
    moment = app.config["CLOCK"]()
    form = g.get("form") or {}
    here = reached(state, reply)
    if here is not None:
        # The start time comes from the status callback (end minus duration).
        caller = CallStarted(call_sid, caller_number(form.get("From")),
                             caller_number(form.get("To")), None)
        records.record(CallStepped(call_sid, here.path, here.node, reply.outcome, moment,
                                   caller))
    heard = answer_of(form)
    digits, said = heard.keys, None
    if heard.kind == "speech":
        # Digits said are kept as keyed ones are; other words, for replay to match them again.
        digits = spoken_digits(heard.speech) or ""
        said = None if digits else kept_speech(heard.speech, secret)
    outcome = reply.outcome
    records.record(StepTaken(
        call_sid, time.time_ns() // 1000, moment, request.endpoint or "",
        state.node if state is not None else "",
        heard.kind, kept_keys(digits, secret), min(len(digits), MAX_KEY_COUNT), result,
        outcome.kind if outcome is not None else None,
        outcome.detail[:255] if outcome is not None else None,
        said, heard.confidence if said is not None else None,
    ))
    return True


def twiml_response(app: Flask, reply: Reply, menu: Menu) -> Response:
    # Everything the action URLs depend on besides the reply: cached documents never cross it.
    scope = (app.config["PUBLIC_BASE_URL"] or "") + request.environ.get("SCRIPT_NAME", "")
    return Response(render(reply, voice_of(menu), resume_url, scope), mimetype=MIMETYPE)
