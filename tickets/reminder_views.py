"""The webhook of a reminder call once it is answered (``tickets.reminders`` placed it)."""

from __future__ import annotations

from flask import Blueprint, Response, g
from sqlalchemy.orm import Session

from auth import pending
from auth.models import Contact
from database.flask_ext import request_session
from ivr.action_urls import query_value
from ivr.current import now, registry
from ivr.provider import Form, provider_webhook
from ivr.respond import answer
from tickets import reminder_flow
from tickets.models import ReminderCall, Ticket
from tickets.reminders import record_answer

bp = Blueprint("reminders", __name__, url_prefix="/voice/reminders")


def _reminder(session: Session) -> ReminderCall | None:
    """The reminder the URL names, if this is its call."""
    raw = query_value("r") or ""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        return None
    reminder = session.get(ReminderCall, int(raw))
    if reminder is None or reminder.call_sid not in (None, g.call_sid):
        return None
    return reminder


@bp.post("/answer")
@provider_webhook
def answered(form: Form) -> Response:
    menu = registry().current()
    session = request_session()
    reminder = _reminder(session)
    ticket = session.get(Ticket, reminder.ticket_id) if reminder is not None else None
    contact = session.get(Contact, reminder.contact_id) if reminder and reminder.contact_id \
        else None
    state = reminder_flow.at_ticket(menu, ticket.number) if ticket is not None else None
    if reminder is None or ticket is None or contact is None or state is None or not g.call_sid:
        session.rollback()
        return answer(reminder_flow.gone(menu), menu)
    answered_by = (form.get("AnsweredBy") or "unknown").strip()
    moment = now()
    record_answer(session, reminder, g.call_sid, answered_by, moment)
    if reminder_flow.is_machine(answered_by):
        session.commit()
        return answer(reminder_flow.machine_message(menu, ticket.number), menu, state)
    # The call is for this contact: only the password is asked, as after keying the CPF.
    pending.remember_cpf(session, g.call_sid, contact.cpf, moment)
    session.commit()
    return answer(reminder_flow.greet(menu, state, contact.name), menu, state)
