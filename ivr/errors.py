"""The single boundary where failures on ``/voice`` become TwiML instead of a 5xx."""

from __future__ import annotations

import logging

from flask import Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ivr import engine
from ivr.twiml import Voice, render_plain
from ivr.webhook import TWIML, now, parse_form, registry, signature_ok, twiml

log = logging.getLogger(__name__)

LAST_RESORT = "Desculpe, tivemos um problema. Por favor, ligue novamente em alguns minutos."


def voice_failure_response(error: Exception) -> Response:
    try:
        menu = registry().current()
    except Exception:
        log.exception("no menu available while handling a failure")
        return Response(render_plain(LAST_RESORT, Voice("Polly.Camila", "pt-BR")), mimetype=TWIML)
    if isinstance(error, HTTPException):
        # An unknown /voice path or method. Not from the provider: refused like any unsigned
        # request. From the provider: a call we cannot place, started over.
        if not signature_ok(parse_form()):
            return Response("Forbidden\n", status=403, mimetype="text/plain")
        log.warning("unknown voice URL %s %s (%s)", request.method, request.path, error.code)
        reply = engine.restart(menu, now(), engine.CallContext(), menu.settings.menu_changed)
        return twiml(reply, menu)
    log.error("failure on %s for call %s: %s", request.path, g.get("call_sid", "-"),
              type(error).__name__, exc_info=current_app.debug or not _is_database_error(error))
    try:
        return twiml(engine.on_failure(menu, now()), menu)
    except Exception:
        log.exception("could not build the failure reply")
        return Response(render_plain(LAST_RESORT, Voice("Polly.Camila", "pt-BR")), mimetype=TWIML)


def _is_database_error(error: Exception) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(error, SQLAlchemyError)
