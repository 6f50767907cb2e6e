"""What a caller hears about a ticket, in Brazilian Portuguese. Pure: the time is passed in.

Dates come from Babel (``5 de dezembro``), which a pt-BR voice reads as "cinco de dezembro";
the ticket number is its own item, flagged to be read digit by digit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from babel.dates import format_date

from ivr.actions import Speech
from tickets import deadlines
from tickets.enums import Area, ClosedHow, TicketStatus

LOCALE = "pt_BR"
SUMMARY_MAX = 160

AREA_NAMES: dict[Area, str] = {
    Area.CADASTRO: "Cadastro",
    Area.EDUCACIONAL: "Educacional",
    Area.FINANCAS: "Gestão Financeira",
    Area.NFE: "NF-e e NFS-e",
}

STATUS_NAMES: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "aberto",
    TicketStatus.IN_PROGRESS: "em atendimento",
    TicketStatus.AWAITING_CUSTOMER: "aguardando sua resposta",
    TicketStatus.SOLUTION_PROPOSED: "com solução proposta",
    TicketStatus.CLOSED: "encerrado",
}

class Named(Protocol):
    @property
    def name(self) -> str: ...


class SpokenTicket(deadlines.DeadlineTicket, Protocol):
    """What is read of a ticket (the ORM model satisfies it)."""

    @property
    def number(self) -> str: ...

    @property
    def area(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def specialist(self) -> Named | None: ...


@lru_cache(maxsize=1024)  # Babel's formatting is slow and callers hear the same few dates
def spoken_date(day: date, today: date) -> str:
    """``5 de dezembro``; the year is said only when it is not the current one."""
    pattern = "d 'de' MMMM" if day.year == today.year else "d 'de' MMMM 'de' y"
    text = format_date(day, pattern, locale=LOCALE)
    # Brazilians say the first of the month as an ordinal: "primeiro de dezembro".
    return "primeiro" + text[1:] if day.day == 1 else text


def _days(count: int) -> str:
    return "1 dia" if count == 1 else f"{count} dias"


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0] if parts else ""


def _summary(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_MAX:
        return text
    cut = text[:SUMMARY_MAX].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-")


def deadline_phrase(ticket: deadlines.DeadlineTicket, now: datetime) -> str:
    """``O prazo para aceite termina em 5 de dezembro, daqui a 3 dias.`` (empty when no deadline
    applies)."""
    last = deadlines.last_day(ticket)
    if last is None or deadlines.is_overdue(ticket, now):
        return ""
    today = deadlines.local_date(now)
    when = spoken_date(last, today)
    left = (last - today).days
    if left <= 0:
        return f"O prazo para aceite termina hoje, {when}."
    if left == 1:
        return f"O prazo para aceite termina amanhã, {when}."
    return f"O prazo para aceite termina em {when}, daqui a {_days(left)}."


def _solution_proposed(ticket: SpokenTicket, now: datetime) -> list[str]:
    today = deadlines.local_date(now)
    lines: list[str] = []
    if ticket.solution_at is not None:
        registered = spoken_date(deadlines.local_date(ticket.solution_at), today)
        lines.append(f"A solução foi registrada em {registered}.")
    lines.append(deadline_phrase(ticket, now))
    if ticket.postponed:
        lines.append("O prazo já foi prorrogado uma vez e não pode ser prorrogado de novo.")
    else:
        lines.append(
            f"Se precisar de mais tempo, você pode prorrogar o prazo uma vez, "
            f"por mais {deadlines.POSTPONE_DAYS} dias."
        )
    return lines


def _closed(ticket: SpokenTicket, now: datetime) -> list[str]:
    today = deadlines.local_date(now)
    closing = deadlines.effective_closing(ticket, now)
    how = closing.how if closing is not None else None
    at = closing.at if closing is not None else None
    if how is ClosedHow.AUTOMATIC:
        last = deadlines.last_day(ticket)
        if last is None and at is not None:
            # Recorded closing without a solution date: the closing instant is the deadline.
            last = deadlines.local_date(at) - timedelta(days=1)
        ended = "O prazo para aceite terminou"
        if last is not None:
            ended += f" em {spoken_date(last, today)}"
        return [
            f"{ended} e o chamado foi encerrado automaticamente.",
            "Para continuar o atendimento, é preciso abrir um novo chamado.",
        ]
    when = f" em {spoken_date(deadlines.local_date(at), today)}" if at is not None else ""
    if how is ClosedHow.ACCEPTED:
        return [f"O chamado foi encerrado{when}, com a solução aceita."]
    return [f"O chamado foi encerrado{when}."]


def describe(ticket: SpokenTicket, now: datetime) -> tuple[Speech, ...]:
    """Everything a caller hears about a ticket after keying its number."""
    status = deadlines.effective_status(ticket, now)
    area = AREA_NAMES[Area(ticket.area)]
    lines: list[str] = [f"da área {area}."]
    summary = _summary(ticket.summary)
    if summary:
        lines.append(f"Assunto: {summary}.")
    lines.append(f"Situação: {STATUS_NAMES[status]}.")
    specialist = ticket.specialist
    name = first_name(specialist.name) if specialist is not None else ""
    if status is not TicketStatus.CLOSED:
        lines.append(
            f"Especialista responsável: {name}." if name else "Ainda sem especialista designado."
        )
    if status is TicketStatus.AWAITING_CUSTOMER:
        lines.append("O especialista aguarda uma resposta sua para continuar o atendimento.")
    elif status is TicketStatus.SOLUTION_PROPOSED:
        lines.extend(_solution_proposed(ticket, now))
    elif status is TicketStatus.CLOSED:
        lines.extend(_closed(ticket, now))
    # The lines as one text: said the same (one <Say>), and fewer items to render.
    return (Speech(text="Chamado número"), Speech(text=ticket.number, as_digits=True),
            Speech(text=" ".join(line for line in lines if line)))


def last_day_said(ticket: deadlines.DeadlineTicket, now: datetime) -> str:
    """The acceptance deadline's last day as said (``19 de janeiro de 2027``); empty if none."""
    last = deadlines.last_day(ticket)
    return "" if last is None else spoken_date(last, deadlines.local_date(now))
