"""Ticket self-service webhooks. Reads through ``lookup`` (one query), changes through
``service``, and the dialogue in ``flow``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Response, g

from database.flask_ext import get_db, request_session
from ivr import engine
from ivr.action_urls import call_state, query_counter, query_value
from ivr.actions import Hangup, Outcome, Redirect, Reply, Resume, say
from ivr.calls.steps import TICKET_FOUND, TICKET_NOT_FOUND, dial_result
from ivr.current import now, registry
from ivr.menu import Menu
from ivr.provider import (
    Form,
    answer_of,
    caller_on_line,
    dial_status,
    provider_webhook,
    recording_url,
)
from ivr.respond import answer
from ivr.speech.digits import spoken_digits
from ivr.speech.menus import Words, number_listen
from ivr.state import CallState
from telemetry.metrics import count_transfer, transfer_outcome
from tickets import flow, service
from tickets.lookup import (
    Caller,
    TicketView,
    caller_and_ticket,
    ticket_to_change,
)
from tickets.models import Ticket

log = logging.getLogger(__name__)

bp = Blueprint("tickets", __name__, url_prefix="/voice/tickets")

NumberOf = Callable[[Form, CallState], str]


@dataclass(frozen=True)
class Visit:
    """One ticket webhook: the menu, where the call is, who is logged in, their ticket."""

    form: Form
    menu: Menu
    state: CallState
    caller: Caller | None
    ticket: TicketView | None

    def count(self, name: str) -> int:
        return query_counter(name)

    def keys(self, words: Words) -> str:
        """The key pressed, or what the words said amount to at a prompt offering ``words``."""
        return flow.key_answered(self.menu, words, answer_of(self.form))

    def reply(self, reply: Reply, result: str | None = None) -> Response:
        if flow.records_message(reply) and self.ticket is not None and self.caller is not None:
            # The recording's callback may come after the call: it finds the ticket here.
            session = request_session()
            service.offer_voice_message(session, g.call_sid, self.ticket.id,
                                        self.caller.contact_id, now())
            session.commit()
        return answer(reply, self.menu, self.state, result=result)

    def orm_ticket(self) -> Ticket | None:
        """The ticket as an ORM object, to change it."""
        if self.ticket is None:
            return None
        return ticket_to_change(request_session(), self.ticket.id)


def _entry(form: Form, state: CallState) -> str:
    return state.entry


def ticket_webhook(
    number_of: NumberOf = _entry,
) -> Callable[[Callable[[Visit], Response]], Callable[..., Response]]:
    """Signed; logged in on this call (else to the login, which comes back here); the ticket
    read in the same query."""

    def decorate(view: Callable[[Visit], Response]) -> Callable[..., Response]:
        @provider_webhook
        @wraps(view)
        def wrapper(form: Form, *args: Any, **kwargs: Any) -> Response:
            menu = registry().current()
            state = call_state()
            if state is None:
                return answer(engine.restart(menu, now(), engine.CallContext(),
                                            menu.settings.menu_changed), menu)
            number = number_of(form, state)
            call_sid = g.call_sid
            found = caller_and_ticket(get_db(), call_sid, number) if call_sid else None
            if found is None:
                return answer(Reply(then=Redirect(Resume(engine.LOGIN, state))), menu, state)
            caller, ticket = found
            return view(Visit(form, menu, state, caller, ticket))

        return wrapper

    return decorate


def _gone(visit: Visit) -> Response:
    """The ticket vanished between steps (deleted, or a replayed URL of another company)."""
    return visit.reply(flow.not_found(visit.menu, visit.state, now(), flow.MAX_NOT_FOUND - 1))


@bp.post("/status")
@ticket_webhook()
def status(visit: Visit) -> Response:
    if not visit.state.entry:
        return visit.reply(flow.ask_number(visit.menu, visit.state))
    if visit.ticket is None:
        return visit.reply(flow.not_found(visit.menu, visit.state, now(), 0), TICKET_NOT_FOUND)
    return visit.reply(flow.ticket_menu(visit.menu, visit.state, visit.ticket, now()),
                       TICKET_FOUND)


def _entered(form: Form) -> str:
    """The keys, or the digits said ("um dois três..."); words that are not digits count as
    nothing entered."""
    answer = answer_of(form)
    if answer.kind == "speech" and number_listen(registry().current()) is not None:
        return spoken_digits(answer.speech) or ""
    return answer.keys.strip()[:16]


def _keyed_number(form: Form, state: CallState) -> str:
    keys = _entered(form)
    return keys if service.is_ticket_number(keys) else ""


@bp.post("/number")
@ticket_webhook(_keyed_number)
def number(visit: Visit) -> Response:
    keys = _entered(visit.form)
    misses, silences = visit.count("m"), visit.count("q")
    settings = visit.menu.settings
    if not keys:
        return visit.reply(flow.number_silence(visit.menu, visit.state, now(), misses, silences))
    if keys == settings.repeat_key:
        return visit.reply(flow.ask_number(visit.menu, visit.state, misses=misses))
    if keys == settings.main_menu_key:
        return visit.reply(flow.back_to_main(visit.menu, visit.state, now()))
    if visit.ticket is None:
        return visit.reply(flow.not_found(visit.menu, visit.state, now(), misses),
                           TICKET_NOT_FOUND)
    state = visit.state.with_entry(visit.ticket.number)
    return answer(flow.ticket_menu(visit.menu, state, visit.ticket, now()), visit.menu, state,
                  result=TICKET_FOUND)


@bp.post("/action")
@ticket_webhook()
def action(visit: Visit) -> Response:
    if visit.ticket is None:
        return _gone(visit)
    return visit.reply(flow.on_action_key(visit.menu, visit.state, visit.ticket,
                                          visit.keys(flow.ACTION_WORDS),
                                          now(), visit.count("i"), visit.count("q")))


@bp.post("/confirm")
@ticket_webhook()
def confirm(visit: Visit) -> Response:
    ticket = visit.orm_ticket()
    if ticket is None or visit.caller is None:
        return _gone(visit)
    change = query_value("a") or ""
    keys = visit.keys(flow.CONFIRM_WORDS)
    wording = visit.menu.wording
    if change not in flow.CHANGES:
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now(),
                                            say(wording.ticket_cancelled), full=False))
    if str(ticket.version) != query_value("v"):
        # Changed since the caller chose (a replayed confirmation, or the team's import).
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now(),
                                            say(wording.ticket_changed_since), full=False))
    if keys == visit.menu.settings.repeat_key:
        return visit.reply(flow.ask_confirmation(visit.menu, visit.state, change,
                                                 ticket.version, query_value("r") or ""))
    if keys != flow.CONFIRM_KEY:
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, ticket, now(),
                                            say(wording.ticket_cancelled), full=False))
    session = request_session()
    moment = now()
    contact = visit.caller.contact_id
    try:
        if change == "accept":
            service.accept(session, ticket, contact, g.call_sid, moment)
        elif change == "postpone":
            service.postpone(session, ticket, contact, g.call_sid, moment)
        else:
            service.reject(session, ticket, contact, g.call_sid, moment,
                           query_value("r") or None)
        session.commit()
    except service.TicketError as refused:
        session.rollback()
        fresh = visit.orm_ticket()
        if fresh is None:
            return _gone(visit)
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, fresh, moment,
                                            flow.refused(visit.menu, refused.reason),
                                            full=False))
    return visit.reply(flow.after_change(visit.menu, visit.state, ticket, change, moment))


@bp.post("/reason")
@ticket_webhook()
def reason(visit: Visit) -> Response:
    """The recorded reason for a rejection: confirm before anything changes."""
    recording = recording_url(visit.form, 500)  # carried in the confirmation's URL
    if recording is None:
        if visit.ticket is None:
            return _gone(visit)
        return visit.reply(flow.ticket_menu(visit.menu, visit.state, visit.ticket, now(),
                                            say(visit.menu.wording.ticket_cancelled),
                                            full=False))
    if visit.ticket is None:
        return _gone(visit)
    return visit.reply(flow.ask_confirmation(visit.menu, visit.state, "reject",
                                             visit.ticket.version, recording))


@bp.post("/offer")
@ticket_webhook()
def offer(visit: Visit) -> Response:
    if visit.ticket is None:
        return _gone(visit)
    if visit.keys(flow.OFFER_WORDS) == flow.RECORD_KEY:
        return visit.reply(flow.leave_message(visit.menu, visit.state, visit.ticket))
    return visit.reply(flow.back_to_main(visit.menu, visit.state, now()))


@bp.post("/specialist-dialed")
@ticket_webhook()
def specialist_dialed(visit: Visit) -> Response:
    return _after_dial(visit, lambda ticket: flow.to_team(
        visit.menu, visit.state, ticket, now(),
        say(visit.menu.wording.ticket_specialist_no_answer)), "specialist",
        specialist=True)


@bp.post("/team-dialed")
@ticket_webhook()
def team_dialed(visit: Visit) -> Response:
    team = flow.team_name(visit.menu, visit.ticket.area) if visit.ticket is not None else None
    return _after_dial(visit, lambda ticket: flow.leave_message(
        visit.menu, visit.state, ticket, say(visit.menu.wording.ticket_no_answer)),
        team or "unknown", specialist=False)


def _after_dial(visit: Visit, unanswered: Callable[[TicketView], Reply], team: str, *,
                specialist: bool) -> Response:
    status = dial_status(visit.form)
    count_transfer(team, transfer_outcome(status))
    if status in engine.ANSWERED:
        if visit.ticket is None:
            return visit.reply(Reply(then=Hangup()), dial_result(status))
        return visit.reply(flow.after_talk(visit.menu, visit.state, visit.ticket,
                                           caller_on_line(visit.form), specialist),
                           dial_result(status))
    if visit.ticket is None:
        return _gone(visit)
    return visit.reply(unanswered(visit.ticket), dial_result(status))


@bp.post("/message")
@provider_webhook
def message(form: Form) -> Response:
    """The recording's callback, maybe after the call ended: the message goes to the ticket this
    call was offered it on (never one the URL names), once."""
    menu = registry().current()
    state = call_state() or CallState(node=menu.settings.main_menu)
    recording = recording_url(form, 500)
    session = request_session()
    moment = now()
    slot = service.take_voice_message_slot(session, g.call_sid, moment) if g.call_sid else None
    ticket = ticket_to_change(session, slot[0]) if slot is not None else None
    if ticket is None or slot is None or recording is None:
        session.commit()  # the slot is taken either way
        return answer(Reply(speech=say(menu.wording.goodbye), then=Hangup()), menu, state)
    try:
        service.attach_voice_message(session, ticket, slot[1], g.call_sid, moment, recording)
        session.commit()
    except service.TicketError as refused:
        session.rollback()
        log.warning("voice message for ticket %s not attached: %s", ticket.number,
                    refused.reason)
        text = menu.wording.ticket_message_not_saved.format(reason=refused.reason)
        return answer(Reply(speech=say(text), then=Hangup()), menu, state)
    return answer(Reply(speech=say(menu.wording.ticket_message_saved), then=Hangup(),
                        outcome=Outcome("voicemail", f"ticket:{ticket.number}")), menu, state)
