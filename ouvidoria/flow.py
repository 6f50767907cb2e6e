"""The ouvidoria dialogue (docs/rules.md#ouvidoria). Pure: the menu, the call's state, the keys,
whether the caller's company has the ticket keyed, and the time in; a ``Reply`` out."""

from __future__ import annotations

from datetime import datetime

from ivr import engine
from ivr.actions import Ask, Dial, Hangup, Outcome, Record, Reply, Resume, Speech, say
from ivr.menu import Menu
from ivr.menu.schema import OuvidoriaNode
from ivr.state import CallState

TICKET = "ouvidoria.ticket"
DIALED = "ouvidoria.dialed"
MESSAGE = "ouvidoria.message"

NUMBER_DIGITS = 8
MAX_MISSES = 2  # a second number not found: the caller hears where else to go


def node_of(menu: Menu, state: CallState) -> OuvidoriaNode | None:
    node = menu.node(state.node)
    return node if isinstance(node, OuvidoriaNode) else None


def ask_ticket(menu: Menu, state: CallState, lead: tuple[Speech, ...] = (),
               misses: int = 0) -> Reply:
    params = (("m", str(misses)),) if misses else ()
    ask = Ask(Resume(TICKET, state.with_entry(""), params),
              lead + say(menu.wording.ouvidoria_ask_ticket),
              timeout=menu.settings.retries.timeout, num_digits=NUMBER_DIGITS, finish_on_key="#")
    return Reply(then=ask)


def no_ticket(menu: Menu, state: CallState, now: datetime, misses: int) -> Reply:
    """Why the ouvidoria needs an earlier ticket; after the last try, where else to go, and the
    main menu."""
    misses += 1
    if misses < MAX_MISSES:
        return ask_ticket(menu, state, say(menu.wording.ouvidoria_no_ticket), misses)
    lead = say(menu.wording.ouvidoria_no_ticket, menu.wording.ouvidoria_elsewhere)
    main = menu.settings.main_menu
    reply = engine.enter(menu, state.with_entry("").at(main), now,
                         engine.CallContext(lambda: True), lead)
    return Reply(speech=reply.speech, then=reply.then,
                 outcome=Outcome("ouvidoria", "no_ticket"))


def with_ticket(menu: Menu, node: OuvidoriaNode, state: CallState, number: str,
                now: datetime) -> Reply:
    """In hours, the ouvidoria's line; outside them, its hours and a recorded message."""
    here = state.with_entry(number)
    if engine.is_open(menu, node, now):
        return Reply(speech=say(menu.wording.ouvidoria_transfer),
                     then=Dial(Resume(DIALED, here), target=node.to, timeout=node.ring_timeout,
                               caller_id=node.caller_id),
                     outcome=Outcome("transferred", f"ouvidoria:{number}"))
    assert node.schedule is not None
    closed = engine.closed_speech(menu, node.schedule, now)
    return leave_message(menu, node, here, closed, Outcome("closed", f"ouvidoria:{number}"))


def leave_message(menu: Menu, node: OuvidoriaNode, state: CallState, lead: tuple[Speech, ...],
                  outcome: Outcome | None = None) -> Reply:
    return Reply(speech=lead + say(menu.wording.ouvidoria_leave_message),
                 then=Record(Resume(MESSAGE, state), max_length=node.max_seconds),
                 outcome=outcome)


def unanswered(menu: Menu, node: OuvidoriaNode, state: CallState) -> Reply:
    return leave_message(menu, node, state, say(menu.wording.ouvidoria_unanswered),
                         Outcome("unanswered", f"ouvidoria:{state.entry}"))


def nothing_recorded(menu: Menu) -> Reply:
    return Reply(speech=say(menu.wording.nothing_recorded), then=Hangup())


def message_saved(menu: Menu) -> Reply:
    return Reply(speech=say(menu.wording.ouvidoria_message_saved), then=Hangup(),
                 outcome=Outcome("voicemail", "ouvidoria"))
