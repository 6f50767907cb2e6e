"""Survey webhooks: translation only (``surveys.flow`` decides, ``surveys.service`` stores)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from database.flask_ext import request_session
from ivr.action_urls import call_state, query_value
from ivr.current import now, registry
from ivr.provider import Form, provider_webhook
from ivr.respond import answer
from surveys import flow, service

bp = Blueprint("surveys", __name__, url_prefix="/voice/survey")


def _params() -> flow.Params:
    """The team and specialist flag the survey is about, carried from step to step."""
    team, specialist = query_value("t") or "", query_value("p") == "1"
    return (("t", team), ("p", "1")) if specialist else (("t", team),)


@bp.post("/score")
@provider_webhook
def score(form: Form) -> Response:
    menu = registry().current()
    state = call_state()
    node = flow.node_of(menu, state) if state is not None else None
    if state is None or node is None:  # the menu lost its survey meanwhile: nothing to ask
        return answer(flow.skipped(menu), menu, state)
    params = _params()
    keyed = flow.on_score(menu, node, state, form.get("Digits", "").strip()[:16], params)
    if not isinstance(keyed, flow.Scored):
        return answer(keyed, menu, state)
    if g.call_sid:
        session = request_session()
        service.store_score(session, g.call_sid, now(), keyed.score,
                            team=query_value("t") or None, ticket_number=state.entry,
                            specialist=query_value("p") == "1")
        session.commit()
    return answer(flow.after_score(menu, node, state, params), menu, state)


@bp.post("/comment")
@provider_webhook
def comment(form: Form) -> Response:
    """The recorded comment's callback, maybe after the caller hung up."""
    menu = registry().current()
    state = call_state()
    recording = form.get("RecordingUrl", "")[:1024]
    if g.call_sid and recording.startswith(("https://", "http://")):
        session = request_session()
        service.attach_comment(session, g.call_sid, recording, now())
        session.commit()
    return answer(flow.thanks(menu, flow.node_of(menu, state) if state else None), menu, state)


@bp.post("/done")
@provider_webhook
def done(form: Form) -> Response:
    """No comment was said: thanks and goodbye."""
    menu = registry().current()
    state = call_state()
    return answer(flow.thanks(menu, flow.node_of(menu, state) if state else None), menu, state)


