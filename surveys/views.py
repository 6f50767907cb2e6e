"""Survey webhooks: translation only (``surveys.flow`` decides, ``surveys.service`` stores)."""

from __future__ import annotations

from flask import Blueprint, Response, g

from database.flask_ext import request_session
from ivr import engine
from ivr.action_urls import call_state, query_value
from ivr.current import now, registry
from ivr.provider import Form, provider_webhook, recording_url
from ivr.respond import answer
from surveys import flow, service

bp = Blueprint("surveys", __name__, url_prefix="/voice/survey")


def _about() -> tuple[str, bool]:
    """The team and specialist flag the survey is about (``engine.survey_params``)."""
    return query_value("t") or "", query_value("p") == "1"


@bp.post("/score")
@provider_webhook
def score(form: Form) -> Response:
    menu = registry().current()
    state = call_state()
    node = flow.node_of(menu, state) if state is not None else None
    if state is None or node is None:  # the menu lost its survey meanwhile: nothing to ask
        return answer(flow.skipped(menu), menu, state)
    team, specialist = _about()
    params = engine.survey_params(team, specialist)
    keyed = flow.on_score(menu, node, state, form.get("Digits", "").strip()[:16], params)
    if not isinstance(keyed, flow.Scored):
        return answer(keyed, menu, state)
    if g.call_sid:
        session = request_session()
        service.store_score(session, g.call_sid, now(), keyed.score,
                            team=team or None, ticket_number=state.entry,
                            specialist=specialist)
        session.commit()
    return answer(flow.after_score(menu, node, state, params), menu, state)


@bp.post("/comment")
@provider_webhook
def comment(form: Form) -> Response:
    """The recorded comment's callback, maybe after the caller hung up."""
    menu = registry().current()
    state = call_state()
    recording = recording_url(form, 1024)
    if g.call_sid and recording is not None:
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


