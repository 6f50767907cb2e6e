"""The ticket self-service dialogue: which prompt, which keys, which transfer. Pure: it gets the
ticket (or its absence), the caller's keys, the menu and the time, and returns a ``Reply``; the
views do the look-ups and the writes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Literal

from ivr import engine
from ivr.actions import Ask, Dial, Outcome, Record, Reply, Resume, Speech, say
from ivr.menu import Menu
from ivr.menu.schema import TransferNode
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

ASK_NUMBER = "Digite os oito dígitos do número do chamado."
OPTION_SPECIALIST = "Para falar com o especialista responsável, tecle 1."
OPTION_ACCEPT = "Para aceitar a solução, tecle 2."
OPTION_POSTPONE = "Para prorrogar o prazo de aceite por mais 45 dias, tecle 3."
OPTION_REJECT = "Para recusar a solução e gravar o motivo, tecle 4."
OPTION_TAIL = "Para ouvir de novo, tecle asterisco. Para voltar ao menu principal, tecle 0."
CONFIRM_TEXT: dict[Change, str] = {
    "accept": "Você escolheu aceitar a solução. O chamado será encerrado.",
    "postpone": "Você escolheu prorrogar o prazo de aceite por 45 dias. "
                "A prorrogação só pode ser feita uma vez.",
    "reject": "Você escolheu recusar a solução. O chamado voltará para atendimento "
              "com a sua mensagem.",
}
# The ticket menu's keys that change the ticket (after a confirmation).
_CHANGE_KEYS: dict[str, Change] = {"2": "accept", "3": "postpone", "4": "reject"}
CONFIRM_KEYS = "Para confirmar, tecle 1. Para cancelar, tecle qualquer outra tecla."
CANCELLED = "Nada foi alterado."
CHANGED_SINCE = "O chamado mudou desde a sua escolha. Nada foi alterado."
TO_SPECIALIST = "Vamos transferir você para {name}, especialista responsável pelo chamado. Aguarde."
TO_TEAM = "Vamos transferir você para a equipe responsável pelo chamado. Aguarde."
NO_ANSWER = "Ninguém pôde atender agora."
LEAVE_MESSAGE = ("Deixe sua mensagem para o especialista após o sinal; ela ficará registrada no "
                 "chamado. Ao terminar, tecle jogo da velha.")
OFFER_MESSAGE = ("Se quiser, deixe uma mensagem para o especialista, que ficará registrada no "
                 "chamado. Para gravar, tecle 1. Para voltar ao menu principal, tecle 0.")
ASK_REASON = "Depois do sinal, diga o motivo da recusa. Ao terminar, tecle jogo da velha."
MESSAGE_SAVED = "Sua mensagem foi registrada no chamado. Obrigado e até logo."
MESSAGE_NOT_SAVED = "Não foi possível registrar a mensagem no chamado: {reason}. Até logo."


def _params(**values: object) -> tuple[tuple[str, str], ...]:
    return tuple((k, str(v)) for k, v in values.items() if v not in (None, "", 0))


def _timeout(menu: Menu) -> int:
    return menu.settings.retries.timeout


def ask_number(menu: Menu, state: CallState, lead: tuple[Speech, ...] = (),
               misses: int = 0, silences: int = 0) -> Reply:
    ask = Ask(Resume(NUMBER, state.with_entry(""), _params(m=misses, q=silences)),
              lead + say(ASK_NUMBER), timeout=_timeout(menu), num_digits=NUMBER_DIGITS,
              finish_on_key="#")
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
        return back_to_main(menu, state, now, speech.not_found())
    return ask_number(menu, state, speech.not_found(), misses)


def options(ticket: AnyTicket, now: datetime) -> str:
    can = deadlines.choices(ticket, now)
    lines = [OPTION_SPECIALIST] if can.leave_message.allowed else []
    if can.accept.allowed:
        lines.append(OPTION_ACCEPT)
    if can.postpone.allowed:
        lines.append(OPTION_POSTPONE)
    if can.reject.allowed:
        lines.append(OPTION_REJECT)
    lines.append(OPTION_TAIL)
    return " ".join(lines)


def ticket_menu(menu: Menu, state: CallState, ticket: AnyTicket, now: datetime,
                lead: tuple[Speech, ...] = (), *, full: bool = True, invalid: int = 0,
                silences: int = 0) -> Reply:
    """The ticket read out (when ``full``), then what the caller can do with it."""
    state = state.with_entry(ticket.number)
    body = speech.describe(ticket, now) if full else ()
    ask = Ask(Resume(ACTION, state, _params(i=invalid, q=silences)),
              lead + body + say(options(ticket, now)),
              timeout=_timeout(menu), num_digits=1, finish_on_key="")
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
    if keys == "1":
        still_open = deadlines.can_leave_message(ticket, now)
        if not still_open.allowed:
            return ticket_menu(menu, state, ticket, now, speech.refused(still_open.reason),
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
        return ticket_menu(menu, state, ticket, now, speech.refused(verdict.reason), full=False)
    if change == "reject":
        here = state.with_entry(ticket.number)
        return Reply(speech=say(ASK_REASON),
                     then=Record(Resume(REASON, here), max_length=MESSAGE_SECONDS,
                                 on_silence=Resume(STATUS, here)))
    return ask_confirmation(menu, state, change, ticket.version)


def ask_confirmation(menu: Menu, state: CallState, change: Change, version: int,
                     recording_url: str = "") -> Reply:
    """``version``: the ticket as the caller heard it; the change applies only to that one."""
    ask = Ask(Resume(CONFIRM, state, _params(a=change, r=recording_url, v=version)),
              say(CONFIRM_TEXT[change], CONFIRM_KEYS), timeout=_timeout(menu), num_digits=1,
              finish_on_key="")
    return Reply(then=ask)


def after_change(menu: Menu, state: CallState, ticket: AnyTicket, change: Change,
                 now: datetime) -> Reply:
    done = {
        "accept": speech.after_accept(),
        "postpone": speech.after_postpone(ticket, now),
        "reject": speech.after_reject(),
    }[change]
    reply = ticket_menu(menu, state, ticket, now, done, full=False)
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
        speech=say(TO_SPECIALIST.format(name=name)),
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
        return leave_message(state, ticket, lead + say(NO_ANSWER))
    return Reply(
        speech=lead + say(TO_TEAM),
        then=Dial(Resume(TEAM_DIALED, state.with_entry(ticket.number)), target=target,
                  timeout=team.ring_timeout, caller_id=team.caller_id),
        outcome=Outcome("transferred", f"team:{ticket.number}:{target}"),
    )


def offer_message(menu: Menu, state: CallState, lead: tuple[Speech, ...]) -> Reply:
    ask = Ask(Resume(OFFER, state), lead + say(OFFER_MESSAGE), timeout=_timeout(menu),
              num_digits=1, finish_on_key="")
    return Reply(then=ask, outcome=Outcome("closed", f"specialist:{state.entry}"))


def records_message(reply: Reply) -> bool:
    """The reply records a message for the team on the call's ticket."""
    then = reply.then
    return isinstance(then, Record) and then.resume.endpoint == MESSAGE


def leave_message(state: CallState, ticket: AnyTicket, lead: tuple[Speech, ...] = ()) -> Reply:
    return Reply(speech=lead + say(LEAVE_MESSAGE),
                 then=Record(Resume(MESSAGE, state.with_entry(ticket.number)),
                             max_length=MESSAGE_SECONDS))
