"""The ticket self-service dialogue: which prompt, which keys, which transfer. Pure: it gets the
ticket (or its absence), the caller's keys, the menu and the time, and returns a ``Reply``; the
views do the look-ups and the writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

from ivr import engine
from ivr.actions import Ask, Dial, Listen, Outcome, Record, Reply, Resume, Speech, say
from ivr.menu import Menu
from ivr.menu.schema import TransferNode
from ivr.speech.heard import Heard
from ivr.speech.menus import Words, dialogue_vocabulary, key_said, number_listen
from ivr.state import CallState
from tickets import deadlines, speech
from tickets.lookup import TicketView
from tickets.models import Ticket

# The ORM object where a ticket changes, the read-only view where it is only read.
AnyTicket = Ticket | TicketView

STATUS = "tickets.status"
NUMBER = "tickets.number"
ACTION = "tickets.action"
CONFIRM = "tickets.confirm"
OFFER = "tickets.offer"
SPECIALIST_DIALED = "tickets.specialist_dialed"
TEAM_DIALED = "tickets.team_dialed"
MESSAGE = "tickets.message"
REASON = "tickets.reason"

MAX_NOT_FOUND = 3
SPECIALIST_RING_SECONDS = 20
MESSAGE_SECONDS = 120
NUMBER_DIGITS = 8

Change = Literal["accept", "postpone", "reject"]

# The ticket menu's keys (fixed: docs/rules.md#tickets); what they are called is the menu's
# wording (``ivr/menu/wording.py``).
SPECIALIST_KEY = "1"
CONFIRM_KEY = "1"
RECORD_KEY = "1"
_CHANGE_KEYS: dict[str, Change] = {"2": "accept", "3": "postpone", "4": "reject"}
CHANGES: tuple[Change, ...] = ("accept", "postpone", "reject")
_KEY_OF: dict[Change, str] = {change: key for key, change in _CHANGE_KEYS.items()}

# What a caller may say for those keys (docs/rules.md#speech), and how they are offered back.
ACTION_WORDS: Words = (
    (SPECIALIST_KEY, "falar com o especialista",
     ("especialista", "falar com o especialista", "responsável")),
    (_KEY_OF["accept"], "aceitar a solução", ("aceitar", "aceito", "aceitar a solução")),
    (_KEY_OF["postpone"], "prorrogar o prazo",
     ("prorrogar", "prorrogação", "mais prazo", "adiar")),
    (_KEY_OF["reject"], "recusar a solução", ("recusar", "recuso", "não aceito", "rejeitar")),
)
CONFIRM_WORDS: Words = ((CONFIRM_KEY, "confirmar", ("confirmar", "confirmo", "sim")),)
OFFER_WORDS: Words = ((RECORD_KEY, "gravar uma mensagem",
                       ("gravar", "gravar mensagem", "deixar mensagem", "recado")),)


def listen_for(menu: Menu, words: Words) -> Listen | None:
    vocabulary = dialogue_vocabulary(menu, words)
    return vocabulary.listen if vocabulary is not None else None


def key_answered(menu: Menu, words: Words, heard: Heard) -> str:
    """The key pressed, or the key the words said amount to (``UNCLEAR``: none, an invalid key
    wherever it arrives)."""
    vocabulary = dialogue_vocabulary(menu, words) if heard.kind == "speech" else None
    if vocabulary is None:
        return heard.keys.strip()[:16]
    return key_said(vocabulary, heard, menu.settings.speech.min_confidence)


def _params(**values: object) -> tuple[tuple[str, str], ...]:
    return tuple((k, str(v)) for k, v in values.items() if v not in (None, "", 0))


def _timeout(menu: Menu) -> int:
    return menu.settings.retries.timeout


def ask_number(menu: Menu, state: CallState, lead: tuple[Speech, ...] = (),
               misses: int = 0, silences: int = 0) -> Reply:
    ask = Ask(Resume(NUMBER, state.with_entry(""), _params(m=misses, q=silences)),
              lead + say(menu.wording.ticket_ask_number), timeout=_timeout(menu),
              num_digits=NUMBER_DIGITS, finish_on_key="#", listen=number_listen(menu))
    return Reply(then=ask)


def back_to_main(menu: Menu, state: CallState, now: datetime,
                 lead: tuple[Speech, ...] = ()) -> Reply:
    main = menu.settings.main_menu
    return engine.enter(menu, state.with_entry("").at(main), now,
                        engine.CallContext(lambda: True), lead)


def number_silence(menu: Menu, state: CallState, now: datetime, misses: int,
                   silences: int) -> Reply:
    silences += 1
    if silences >= menu.settings.retries.max_silence:
        return back_to_main(menu, state, now, say(menu.settings.retries.silence))
    return ask_number(menu, state, say(menu.settings.retries.silence), misses, silences)


def not_found(menu: Menu, state: CallState, now: datetime, misses: int) -> Reply:
    """Missing, malformed, or another company's: the same words every time."""
    misses += 1
    if misses >= MAX_NOT_FOUND:
        return back_to_main(menu, state, now, say(menu.wording.ticket_not_found))
    return ask_number(menu, state, say(menu.wording.ticket_not_found), misses)


def options(menu: Menu, ticket: AnyTicket, now: datetime) -> str:
    wording = menu.wording
    can = deadlines.choices(ticket, now)
    keys = _KEY_OF
    lines = [wording.ticket_option_specialist.format(key=SPECIALIST_KEY)] \
        if can.leave_message.allowed else []
    if can.accept.allowed:
        lines.append(wording.ticket_option_accept.format(key=keys["accept"]))
    if can.postpone.allowed:
        lines.append(wording.ticket_option_postpone.format(key=keys["postpone"],
                                                           days=deadlines.POSTPONE_DAYS))
    if can.reject.allowed:
        lines.append(wording.ticket_option_reject.format(key=keys["reject"]))
    lines.append(wording.ticket_options_end)
    return " ".join(line for line in lines if line)


def ticket_menu(menu: Menu, state: CallState, ticket: AnyTicket, now: datetime,
                lead: tuple[Speech, ...] = (), *, full: bool = True, invalid: int = 0,
                silences: int = 0) -> Reply:
    """The ticket read out (when ``full``), then what the caller can do with it."""
    state = state.with_entry(ticket.number)
    body = speech.describe(ticket, now) if full else ()
    ask = Ask(Resume(ACTION, state, _params(i=invalid, q=silences)),
              lead + body + say(options(menu, ticket, now)),
              timeout=_timeout(menu), num_digits=1, finish_on_key="",
              listen=listen_for(menu, ACTION_WORDS))
    # Hearing a ticket is in the path (consulta_chamado), not an outcome.
    return Reply(then=ask, cacheable=False)


def on_action_key(menu: Menu, state: CallState, ticket: AnyTicket, keys: str, now: datetime,
                  invalid: int, silences: int = 0) -> Reply:
    """1 specialist, 2 accept, 3 postpone, 4 reject (after a recording), * repeat, 0 main.
    Wrong keys and silences count apart, against the menu's own two limits."""
    settings = menu.settings
    if not keys:
        silences += 1
        if silences >= settings.retries.max_silence:
            return back_to_main(menu, state, now, say(settings.retries.silence))
        return ticket_menu(menu, state, ticket, now, say(settings.retries.silence), full=False,
                           invalid=invalid, silences=silences)
    if keys == settings.repeat_key:
        return ticket_menu(menu, state, ticket, now)
    if keys == settings.main_menu_key:
        return back_to_main(menu, state, now)
    if keys == SPECIALIST_KEY:
        still_open = deadlines.can_leave_message(ticket, now)
        if not still_open.allowed:
            return ticket_menu(menu, state, ticket, now, refused(menu, still_open.reason),
                               full=False)
        return to_specialist(menu, state, ticket, now)
    change = _CHANGE_KEYS.get(keys)
    if change is None:
        invalid += 1
        message = settings.retries.invalid
        if invalid >= settings.retries.max_invalid:
            return back_to_main(menu, state, now, say(message))
        return ticket_menu(menu, state, ticket, now, say(message), full=False, invalid=invalid,
                           silences=silences)
    verdict = {
        "accept": deadlines.can_accept,
        "postpone": deadlines.can_postpone,
        "reject": deadlines.can_reject,
    }[change](ticket, now)
    if not verdict.allowed:
        return ticket_menu(menu, state, ticket, now, refused(menu, verdict.reason), full=False)
    if change == "reject":
        here = state.with_entry(ticket.number)
        return Reply(speech=say(menu.wording.ticket_ask_reason),
                     then=Record(Resume(REASON, here), max_length=MESSAGE_SECONDS,
                                 on_silence=Resume(STATUS, here)))
    return ask_confirmation(menu, state, change, ticket.version)


def ask_confirmation(menu: Menu, state: CallState, change: Change, version: int,
                     recording_url: str = "") -> Reply:
    """``version``: the ticket as the caller heard it; the change applies only to that one."""
    ask = Ask(Resume(CONFIRM, state, _params(a=change, r=recording_url, v=version)),
              say(confirm_text(menu, change),
                  menu.wording.ticket_confirm_keys.format(key=CONFIRM_KEY)),
              timeout=_timeout(menu), num_digits=1, finish_on_key="",
              listen=listen_for(menu, CONFIRM_WORDS))
    return Reply(then=ask)


def confirm_text(menu: Menu, change: Change) -> str:
    wording = menu.wording
    if change == "accept":
        return wording.ticket_confirm_accept
    if change == "postpone":
        return wording.ticket_confirm_postpone.format(days=deadlines.POSTPONE_DAYS)
    return wording.ticket_confirm_reject


def refused(menu: Menu, reason: str) -> tuple[Speech, ...]:
    """A refusal reason (``deadlines.can_*``, ``service.TicketError``) as a sentence."""
    return say(menu.wording.ticket_refused.format(reason=reason))


def after_change(menu: Menu, state: CallState, ticket: AnyTicket, change: Change,
                 now: datetime) -> Reply:
    wording = menu.wording
    if change == "accept":
        done = wording.ticket_accepted
    elif change == "postpone":
        until = speech.last_day_said(ticket, now)
        done = wording.ticket_postponed.format(until=until) if until \
            else wording.ticket_postponed_undated
    else:
        done = wording.ticket_rejected
    reply = ticket_menu(menu, state, ticket, now, say(done), full=False)
    return replace(reply, outcome=Outcome(f"ticket_{change}", ticket.number))


def team_of(menu: Menu, ticket: AnyTicket) -> str | None:
    """The name of the ticket's area team: its transfer node in the menu."""
    # The file names teams by area; a ticket's area is any string (a view's) or an Area.
    name = next((team for area, team in menu.settings.teams.items() if area == ticket.area),
                None)
    return name if name and isinstance(menu.node(name), TransferNode) else None


def _team(menu: Menu, ticket: AnyTicket) -> TransferNode | None:
    name = team_of(menu, ticket)
    node = menu.node(name) if name else None
    return node if isinstance(node, TransferNode) else None


def to_specialist(menu: Menu, state: CallState, ticket: AnyTicket, now: datetime) -> Reply:
    """The specialist's phone, under the area team's hours; in plantão, or with no
    specialist, the team (whose on-duty line then answers)."""
    team = _team(menu, ticket)
    if team is not None:
        target = engine.transfer_target(menu, team, now)
        if target is None:
            assert team.schedule is not None
            return offer_message(menu, state, engine.closed_speech(menu, team.schedule, now))
        if target != team.to:  # plantão: reduced staff, the on-duty line takes the call
            return to_team(menu, state, ticket, now)
    specialist = ticket.specialist
    if specialist is None or not specialist.phone:
        return to_team(menu, state, ticket, now)
    name = speech.first_name(specialist.name)
    return Reply(
        speech=say(menu.wording.ticket_to_specialist.format(name=name)),
        then=Dial(Resume(SPECIALIST_DIALED, state.with_entry(ticket.number)),
                  target=specialist.phone, timeout=SPECIALIST_RING_SECONDS,
                  caller_id=team.caller_id if team else None),
        outcome=Outcome("transferred", f"specialist:{ticket.number}:{specialist.phone}"),
    )


def to_team(menu: Menu, state: CallState, ticket: AnyTicket, now: datetime,
            lead: tuple[Speech, ...] = ()) -> Reply:
    team = _team(menu, ticket)
    target = engine.transfer_target(menu, team, now) if team is not None else None
    if team is None or target is None:
        return leave_message(menu, state, ticket, lead + say(menu.wording.ticket_no_answer))
    return Reply(
        speech=lead + say(menu.wording.ticket_to_team),
        then=Dial(Resume(TEAM_DIALED, state.with_entry(ticket.number)), target=target,
                  timeout=team.ring_timeout, caller_id=team.caller_id),
        outcome=Outcome("transferred", f"team:{ticket.number}:{target}"),
    )


def offer_message(menu: Menu, state: CallState, lead: tuple[Speech, ...]) -> Reply:
    offer = menu.wording.ticket_offer_message.format(key=RECORD_KEY)
    ask = Ask(Resume(OFFER, state), lead + say(offer), timeout=_timeout(menu),
              num_digits=1, finish_on_key="", listen=listen_for(menu, OFFER_WORDS))
    return Reply(then=ask, outcome=Outcome("closed", f"specialist:{state.entry}"))


def records_message(reply: Reply) -> bool:
    """The reply records a message for the team on the call's ticket."""
    then = reply.then
    return isinstance(then, Record) and then.resume.endpoint == MESSAGE


def leave_message(menu: Menu, state: CallState, ticket: AnyTicket,
                  lead: tuple[Speech, ...] = ()) -> Reply:
    return Reply(speech=lead + say(menu.wording.ticket_leave_message),
                 then=Record(Resume(MESSAGE, state.with_entry(ticket.number)),
                             max_length=MESSAGE_SECONDS,
                             nothing_said=menu.wording.nothing_recorded))
