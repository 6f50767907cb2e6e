"""The single boundary where failures on ``/voice`` become TwiML instead of a 5xx."""

from __future__ import annotations

import logging

from flask import Response, current_app, g, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ivr import engine
from ivr.calls.steps import ERROR
from ivr.current import now, registry
from ivr.fallback import resume_retried
from ivr.provider import forbidden, parse_form, signature_ok
from ivr.respond import answer
from ivr.twiml import MIMETYPE, Voice, plain
from telemetry.webhooks import mark_failed

log = logging.getLogger(__name__)

LAST_RESORT = "Desculpe, tivemos um problema. Por favor, ligue novamente em alguns minutos."
# Marks the apology of a failure, for ``flask call`` (the caller hears the same either way).
FAILURE_HEADER = "X-IVR-Failure"
# The shipped menu's voice: used only when no menu could be loaded at all.
LAST_RESORT_VOICE = Voice("Polly.Camila", "pt-BR")


def voice_failure_response(error: Exception) -> Response:
    try:
        menu = registry().current()
    except Exception:
        log.exception("no menu available while handling a failure")
        return _last_resort()
    if isinstance(error, HTTPException):
        # An unknown /voice path or method. Not from the provider: refused like any unsigned
        # request. From the provider: a call we cannot place, started over.
        if not signature_ok(parse_form()):
            return forbidden()
        log.warning("unknown voice URL %s %s (%s)", request.method, request.path, error.code)
        reply = engine.restart(menu, now(), engine.CallContext(), menu.settings.menu_changed)
        return answer(reply, menu, secret=True)
    mark_failed(request.environ)
    log.error("failure on %s for call %s: %s", request.path, g.get("call_sid", "-"),
              type(error).__name__,
              exc_info=current_app.debug or not isinstance(error, SQLAlchemyError))
    if isinstance(error, DBAPIError) and error.connection_invalidated and "form" in g:
        # A connection that died with a database restart: the pool is fresh now, so the call
        # goes on where it was after an apology, as after any failed webhook.
        try:
            return resume_retried(g.form)
        except Exception:  # noqa: BLE001 - the database is still away: the general answer
            log.warning("could not resume call %s after a lost connection",
                        g.get("call_sid", "-"))
    try:
        # Secret: whichever prompt failed, its keys might have been a password's.
        response = answer(engine.on_failure(menu, now()), menu, result=ERROR, secret=True)
    except Exception:
        log.exception("could not build the failure reply")
        return _last_resort()
    response.headers[FAILURE_HEADER] = "1"
    return response


def _last_resort() -> Response:
    return Response(plain(LAST_RESORT, LAST_RESORT_VOICE), mimetype=MIMETYPE,
                    headers={FAILURE_HEADER: "1"})
