"""Ticket self-service webhooks. Look-ups and writes here, dialogue in ``tickets.flow``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g, request

from auth.service import LoginInfo, current_login
from database.flask_ext import request_session
from ivr import engine
from ivr.actions import Hangup, Outcome, Redirect, Reply, Resume, say
from ivr.menu import Menu
from ivr.state import CallState
from ivr.webhook import Form, now, provider_webhook, registry, twiml
from tickets import flow, service
from tickets.models import Ticket

log = logging.getLogger(__name__)

bp = Blueprint("tickets", __name__, url_prefix="/voice/tickets")


@dataclass(frozen=True)
class Visit:
    """One ticket webhook: the menu, where the call is, who is logged in."""

    form: Form
    menu: Menu
    state: CallState
    login: LoginInfo

    def count(self, name: str) -> int:
        raw = request.args.get(name, "0")
        return int(raw) if raw.isdigit() and len(raw) == 1 else 0

    def ticket(self) -> Ticket | None:
        return service.find_ticket_for_company(request_session(), self.state.entry,
                                               self.login.company_id)

    def reply(self, reply: Reply) -> Response:
        return twiml(reply, self.menu, self.state)


def ticket_webhook(view: Callable[[Visit], Response]) -> Callable[..., Response]:
    """Signed, and logged in on this call: else to the login, which comes back here."""

    @provider_webhook
    @wraps(view)
    def wrapper(form: Form, *args: Any, **kwargs: Any) -> Response:
        menu = registry().current()
        state = CallState.decode(request.args.get("s"))
        if state is None:
            return twiml(engine.restart(menu, now(), engine.CallContext(),
                                        menu.settings.menu_changed), menu)
        login = current_login(request_session(), g.call_sid) if g.call_sid else None
        if login is None:
            return twiml(Reply(then=Redirect(Resume(engine.LOGIN, state))), menu, state)
        return view(Visit(form, menu, state, login))

    return wrapper


def _show(visit: Visit, misses: int = 0) -> Response:
    ticket = visit.ticket()
    if ticket is None:
        return visit.reply(flow.not_found(visit.menu, visit.state, now(), misses))
    return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now()))


def _gone(visit: Visit) -> Response:
    """The ticket vanished between steps (deleted, or a replayed URL of another company)."""
    return visit.reply(flow.not_found(visit.menu, visit.state, now(), flow.MAX_NOT_FOUND - 1))


@bp.post("/status")
@ticket_webhook
def status(visit: Visit) -> Response:
    if not visit.state.entry:
        return visit.reply(flow.ask_number(visit.menu, visit.state))
    return _show(visit)


@bp.post("/number")
@ticket_webhook
def number(visit: Visit) -> Response:
    keys = visit.form.get("Digits", "").strip()
    misses, silences = visit.count("m"), visit.count("q")
    if not keys:
        return visit.reply(flow.number_silence(visit.menu, visit.state, now(), misses, silences))
    if keys == visit.menu.settings.main_menu_key:
        return visit.reply(flow.back_to_main(visit.menu, visit.state, now()))
    if not service.is_ticket_number(keys):
        return visit.reply(flow.not_found(visit.menu, visit.state, now(), misses))
    visit = Visit(visit.form, visit.menu, visit.state.with_entry(keys), visit.login)
    return _show(visit, misses)


@bp.post("/action")
@ticket_webhook
def action(visit: Visit) -> Response:
    ticket = visit.ticket()
    if ticket is None:
        return _gone(visit)
    keys = visit.form.get("Digits", "").strip()[:8]
    return visit.reply(flow.on_action_key(visit.menu, visit.state, ticket, keys, now(),
                                          visit.count("i")))


@bp.post("/confirm")
@ticket_webhook
def confirm(visit: Visit) -> Response:
    ticket = visit.ticket()
    if ticket is None:
        return _gone(visit)
    change = request.args.get("a", "")
    if visit.form.get("Digits", "") != "1" or change not in flow.CONFIRM_TEXT:
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now(),
                                            say(flow.CANCELLED), full=False))
    session = request_session()
    moment = now()
    try:
        if change == "accept":
            service.accept(session, ticket, visit.login.contact_id, g.call_sid, moment)
        elif change == "postpone":
            service.postpone(session, ticket, visit.login.contact_id, g.call_sid, moment)
        else:
            service.reject(session, ticket, visit.login.contact_id, g.call_sid, moment,
                           request.args.get("r") or None)
        session.commit()
    except service.TicketError as refused:
        session.rollback()
        ticket = visit.ticket()
        if ticket is None:
            return _gone(visit)
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, moment,
                                            say(f"Não foi possível concluir: {refused.reason}."),
                                            full=False))
    return visit.reply(flow.after_change(visit.menu, visit.state, ticket, change, moment))  # type: ignore[arg-type]


@bp.post("/reason")
@ticket_webhook
def reason(visit: Visit) -> Response:
    """The recorded reason for a rejection: confirm before anything changes."""
    recording = visit.form.get("RecordingUrl", "")[:500]
    if not recording.startswith("https://") and not recording.startswith("http://"):
        ticket = visit.ticket()
        if ticket is None:
            return _gone(visit)
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now(),
                                            say(flow.CANCELLED), full=False))
    return visit.reply(flow.ask_confirmation(visit.menu, visit.state, "reject", recording))


@bp.post("/offer")
@ticket_webhook
def offer(visit: Visit) -> Response:
    ticket = visit.ticket()
    if ticket is None:
        return _gone(visit)
    if visit.form.get("Digits", "") == "1":
        return visit.reply(flow.leave_message(visit.state, ticket))
    return visit.reply(flow.back_to_main(visit.menu, visit.state, now()))


@bp.post("/specialist-dialed")
@ticket_webhook
def specialist_dialed(visit: Visit) -> Response:
    if visit.form.get("DialCallStatus", "") in engine.ANSWERED:
        return visit.reply(Reply(then=Hangup()))
    ticket = visit.ticket()
    if ticket is None:
        return _gone(visit)
    return visit.reply(flow.to_team(visit.menu, visit.state, ticket, now(),
                                    say("O especialista não pôde atender.")))


@bp.post("/team-dialed")
@ticket_webhook
def team_dialed(visit: Visit) -> Response:
    if visit.form.get("DialCallStatus", "") in engine.ANSWERED:
        return visit.reply(Reply(then=Hangup()))
    ticket = visit.ticket()
    if ticket is None:
        return _gone(visit)
    return visit.reply(flow.leave_message(visit.state, ticket, say(flow.NO_ANSWER)))


@bp.post("/message")
@ticket_webhook
def message(visit: Visit) -> Response:
    recording = visit.form.get("RecordingUrl", "")[:500]
    ticket = visit.ticket()
    if ticket is None or not recording:
        return visit.reply(Reply(speech=say("Até logo."), then=Hangup()))
    session = request_session()
    try:
        service.attach_voice_message(session, ticket, visit.login.contact_id, g.call_sid, now(),
                                     recording)
        session.commit()
    except service.TicketError as refused:
        session.rollback()
        text = flow.MESSAGE_NOT_SAVED.format(reason=refused.reason)
        return visit.reply(Reply(speech=say(text), then=Hangup()))
    return visit.reply(Reply(speech=say(flow.MESSAGE_SAVED), then=Hangup(),
                             outcome=Outcome("voicemail", f"ticket:{ticket.number}")))
