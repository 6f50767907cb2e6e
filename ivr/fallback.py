"""Going on with a call after one of its webhooks failed (``docs/rules.md#failed-webhooks``).

Two ways in, one answer: the provider's fallback URL (``POST /voice/fallback``, with the failed
URL in ``ErrorUrl``), and nginx's second try of a webhook that must not run twice, which it sends
to another instance with ``X-IVR-Resume`` (``deploy/nginx/ivr-proxy.conf``). Either way the
failed request may have run in part, so nothing is done again that writes: the caller hears a
short apology and hears again the prompt whose answer was lost, or goes on from the node the
call was heading to; with no usable state, the main menu.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from ivr import engine
from ivr.action_urls import call_state
from ivr.actions import Hangup, Reply, say
from ivr.current import now, registry
from ivr.form_fields import parse_pairs
from ivr.logins import call_context
from ivr.menu import Menu
from ivr.provider import RESUMER, Form, dial_status
from ivr.respond import answer
from ivr.state import CallState

log = logging.getLogger(__name__)

INCOMING = "ivr.incoming"
STATUS = "ivr.status"
# The voice message left on a ticket: whether it was kept is not known here, and asking for
# it again could take it twice; a person (in hours) hears the caller instead.
UNSAFE_TO_RESUME = frozenset({"tickets.message"})


def resume_reply(menu: Menu, endpoint: str | None, state: CallState | None, form: Form,
                 ctx: engine.CallContext) -> Reply:
    """What the caller hears after the webhook ``endpoint`` failed at ``state``."""
    moment = now()
    apology = say(menu.settings.apology)
    if dial_status(form) in engine.ANSWERED:
        return Reply(then=Hangup())  # the transfer took place: the call is over
    if endpoint in UNSAFE_TO_RESUME:
        return engine.on_failure(menu, moment)
    if state is None or endpoint is None or endpoint == INCOMING:
        return engine.restart(menu, moment, ctx, menu.settings.apology)
    if endpoint == "ivr.dialed":
        # Pure: where an unanswered transfer leads, as the lost answer would have said.
        return engine.on_dial_result(menu, state, form.get("DialCallStatus"), moment, ctx)
    if endpoint == "ivr.recorded":
        return engine.on_recording(menu, state, form.get("RecordingUrl"))
    # A menu step: its prompt again. A login or ticket step: the node the call was heading to,
    # which asks for the login again unless it was completed, and reads the ticket afresh.
    return engine.enter(menu, state, moment, ctx, lead=apology)


def failed_webhook(error_url: str) -> tuple[str | None, CallState | None]:
    """The endpoint and call state of an URL of ours (None, None for anything else)."""
    parts = urlsplit(error_url[:4096])
    prefix = urlsplit(current_app.config["PUBLIC_BASE_URL"] or "").path.rstrip("/") \
        + request.script_root
    path = parts.path
    if prefix:
        if not path.startswith(prefix + "/"):
            return None, None
        path = path[len(prefix):]
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return None, None
    try:
        fields = dict(reversed(parse_pairs(parts.query)))  # the first of a repeated field
    except ValueError:
        return str(endpoint), None
    return str(endpoint), CallState.decode(fields.get("s"))


def resume(endpoint: str | None, state: CallState | None, form: Form, cause: str) -> Response:
    """The answer that resumes the call; the step recorded like any other."""
    if endpoint == STATUS:
        return Response("", status=204)  # not a call's webhook: nothing to resume
    menu = registry().current()
    log.warning("call %s resumed after %s failed (%s)", g.get("call_sid") or "-",
                endpoint or "an unknown URL", cause)
    reply = resume_reply(menu, endpoint, state, form, call_context())
    return answer(reply, menu, state)


def resume_retried(form: Form) -> Response:
    """This request answered as a failed one: nginx's second try of a webhook that must not
    run twice, or a webhook that lost its database connection."""
    return resume(request.endpoint, call_state(), form, "answered as a failed webhook")


def install(app: Flask) -> None:
    app.extensions[RESUMER] = resume_retried
