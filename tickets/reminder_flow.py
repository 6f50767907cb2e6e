"""What a reminder call says (docs/rules.md#reminder-calls). Pure, like the other dialogues: a
person is greeted by name and asked for the password of the contact the call is for (anyone may
pick up), then hears the ticket with the choices an inbound caller gets; an answering machine
gets a short message with the ticket's number and the line's, and no menu."""

from __future__ import annotations

from string import Formatter

from auth import flow as login_flow
from ivr.actions import Hangup, Outcome, Reply, Speech, say
from ivr.menu import Menu
from ivr.menu.schema import TicketStatusNode
from ivr.state import CallState
from tickets.speech import first_name

# AnsweredBy values of the provider's answering machine detection that are no person.
_NOT_A_PERSON = ("machine_", "fax")


def is_machine(answered_by: str) -> bool:
    return answered_by.startswith(_NOT_A_PERSON)


def ticket_node(menu: Menu) -> str | None:
    """The menu's ticket status step, where a logged-in contact hears the ticket."""
    return next((name for name, node in menu.spec.nodes.items()
                 if isinstance(node, TicketStatusNode)), None)


def at_ticket(menu: Menu, number: str) -> CallState | None:
    node = ticket_node(menu)
    return None if node is None else CallState(node=node, path=(node,), entry=number)


def greet(menu: Menu, state: CallState, contact_name: str) -> Reply:
    """Hello by first name, then the password of that contact (the CPF is already pending)."""
    name = first_name(contact_name) or contact_name
    return login_flow.ask_password(menu, state, say(menu.wording.reminder_greeting.format(
        name=name)))


def _with_digits(template: str, **digits: str) -> tuple[Speech, ...]:
    """The sentence's text, its call-time ``{placeholders}`` read digit by digit."""
    speech: list[Speech] = []
    for text, name, _spec, _conversion in Formatter().parse(template):
        if text.strip():
            speech.append(Speech(text=text.strip()))
        if name:
            speech.append(Speech(text=digits[name], as_digits=True))
    return tuple(speech)


def machine_message(menu: Menu, number: str) -> Reply:
    speech = _with_digits(menu.wording.reminder_machine, number=number)
    return Reply(speech=speech, then=Hangup(), outcome=Outcome("message", f"reminder:{number}"),
                 cacheable=False)


def gone(menu: Menu) -> Reply:
    """A reminder this server no longer knows (a replayed or stray webhook)."""
    return Reply(speech=say(menu.wording.reminder_gone), then=Hangup())
