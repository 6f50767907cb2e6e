"""Ouvidoria webhooks: translation only. The dialogue is ``ouvidoria.flow``, the stored contact
``ouvidoria.service``; the logged-in caller and their company's ticket are read as the ticket
steps read them (``tickets.lookup``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, g

from database.flask_ext import get_db, request_session
from ivr import engine
from ivr.action_urls import call_state, query_counter
from ivr.actions import Redirect, Reply, Resume
from ivr.current import now, registry
from ivr.menu import Menu
from ivr.menu.schema import OuvidoriaNode
from ivr.provider import Form, caller_on_line, dial_status, provider_webhook, recording_url
from ivr.respond import answer
from ivr.state import CallState
from ouvidoria import flow, service
from tickets.lookup import Caller, TicketView, caller_and_ticket
from tickets.service import is_ticket_number

bp = Blueprint("ouvidoria", __name__, url_prefix="/voice/ouvidoria")

Step = Callable[[Menu, CallState, OuvidoriaNode], Response]


def _at_ouvidoria(view: Step) -> Response:
    """The menu, the call's state and its ouvidoria node; the main menu again without them."""
    menu = registry().current()
    state = call_state()
    node = flow.node_of(menu, state) if state is not None else None
    if state is None or node is None:
        return answer(engine.restart(menu, now(), engine.CallContext(),
                                     menu.settings.menu_changed), menu, state)
    return view(menu, state, node)


def _logged_in(number: str) -> tuple[Caller, TicketView | None] | None:
    return caller_and_ticket(get_db(), g.call_sid, number) if g.call_sid else None


def _to_login(menu: Menu, state: CallState) -> Response:
    return answer(Reply(then=Redirect(Resume(engine.LOGIN, state))), menu, state)


@bp.post("/start")
@provider_webhook
def start(form: Form) -> Response:
    def step(menu: Menu, state: CallState, node: OuvidoriaNode) -> Response:
        if _logged_in("") is None:
            return _to_login(menu, state)
        return answer(flow.ask_ticket(menu, state), menu, state)

    return _at_ouvidoria(step)


@bp.post("/ticket")
@provider_webhook
def ticket(form: Form) -> Response:
    keys = form.get("Digits", "").strip()[:16]
    misses = query_counter("m")

    def step(menu: Menu, state: CallState, node: OuvidoriaNode) -> Response:
        settings = menu.settings
        if keys == settings.repeat_key:
            return answer(flow.ask_ticket(menu, state, misses=misses), menu, state)
        if keys == settings.main_menu_key:
            main = settings.main_menu
            return answer(engine.enter(menu, state.at(main), now(), engine.CallContext(
                lambda: True)), menu, state)
        found = _logged_in(keys if is_ticket_number(keys) else "")
        if found is None:
            return _to_login(menu, state)
        caller, ticket = found
        moment = now()
        if ticket is None:
            reply = flow.no_ticket(menu, state, moment, misses)
            if reply.outcome is not None:  # the last try: the caller goes elsewhere
                _store(caller, None, "no_ticket")
            return answer(reply, menu, state)
        reply = flow.with_ticket(menu, node, state, ticket.number, moment)
        _store(caller, ticket.id, "transferred" if reply.outcome and
               reply.outcome.kind == "transferred" else "no_message")
        return answer(reply, menu, state)

    return _at_ouvidoria(step)


def _store(caller: Caller, ticket_id: int | None, outcome: str) -> None:
    session = request_session()
    service.record(session, g.call_sid, now(), contact_id=caller.contact_id,
                   ticket_id=ticket_id, outcome=outcome)
    session.commit()


@bp.post("/dialed")
@provider_webhook
def dialed(form: Form) -> Response:
    def step(menu: Menu, state: CallState, node: OuvidoriaNode) -> Response:
        if dial_status(form) in engine.ANSWERED:
            return answer(engine.after_talk(menu, state, caller_on_line(form), team=state.node),
                          menu, state)
        session = request_session()
        service.set_outcome(session, g.call_sid, "unanswered")
        session.commit()
        return answer(flow.unanswered(menu, node, state), menu, state)

    return _at_ouvidoria(step)


@bp.post("/message")
@provider_webhook
def message(form: Form) -> Response:
    """The recording's callback, maybe after the call ended: it goes to this call's contact."""
    menu = registry().current()
    state = call_state()
    recording = recording_url(form, 1024)
    session = request_session()
    saved = bool(g.call_sid) and recording is not None \
        and service.attach_message(session, g.call_sid, recording)
    session.commit()
    reply = flow.message_saved(menu) if saved else flow.nothing_recorded(menu)
    return answer(reply, menu, state)
