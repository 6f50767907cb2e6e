"""What a caller hears about a ticket, for each status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from ivr.actions import Speech
from tickets import speech
from tickets.deadlines import SAO_PAULO
from tickets.enums import Area, ClosedHow, TicketStatus


@dataclass(frozen=True)
class FakeSpecialist:
    name: str


@dataclass(frozen=True)
class FakeTicket:
    number: str = "12345678"
    area: str = Area.EDUCACIONAL
    status: str = TicketStatus.OPEN
    summary: str = "Rematrícula não gera boleto"
    solution_at: datetime | None = None
    postponed: bool = False
    closed_at: datetime | None = None
    closed_how: str | None = None
    specialist: FakeSpecialist | None = FakeSpecialist("Ana Souza")


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SAO_PAULO)


SOLUTION_AT = sp(2026, 11, 20, 16, 0)  # last day to accept: 5 December
NOW = sp(2026, 12, 2, 10, 0)


def text_of(items: tuple[Speech, ...]) -> str:
    return " ".join(item.text for item in items)


def test_number_is_a_separate_item_read_digit_by_digit() -> None:
    items = speech.describe(FakeTicket(), NOW)
    digits = [item for item in items if item.as_digits]
    assert digits == [Speech(text="12345678", as_digits=True)]
    assert all(not item.as_digits for item in items if item.text != "12345678")
    assert all(isinstance(item, Speech) for item in items)


@pytest.mark.parametrize(
    ("status", "heard"),
    [
        (TicketStatus.OPEN, "Situação: aberto."),
        (TicketStatus.IN_PROGRESS, "Situação: em atendimento."),
        (TicketStatus.AWAITING_CUSTOMER, "Situação: aguardando sua resposta."),
    ],
)
def test_statuses_without_solution(status: TicketStatus, heard: str) -> None:
    said = text_of(speech.describe(FakeTicket(status=status), NOW))
    assert heard in said
    assert "Especialista responsável: Ana." in said
    assert "Souza" not in said
    assert "prazo" not in said


@pytest.mark.parametrize(
    ("area", "heard"),
    [
        (Area.CADASTRO, "da área Cadastro."),
        (Area.EDUCACIONAL, "da área Educacional."),
        (Area.FINANCAS, "da área Gestão Financeira."),
        (Area.NFE, "da área NF-e e NFS-e."),
    ],
)
def test_area_in_words(area: Area, heard: str) -> None:
    assert heard in text_of(speech.describe(FakeTicket(area=area), NOW))


def test_solution_proposed_says_dates_and_days_left() -> None:
    ticket = FakeTicket(status=TicketStatus.SOLUTION_PROPOSED, solution_at=SOLUTION_AT)
    said = text_of(speech.describe(ticket, NOW))
    assert "Situação: com solução proposta." in said
    assert "A solução foi registrada em 20 de novembro." in said
    assert "O prazo para aceite termina em 5 de dezembro, daqui a 3 dias." in said
    assert "você pode prorrogar o prazo uma vez, por mais 45 dias" in said


def test_solution_proposed_last_day_and_day_before() -> None:
    ticket = FakeTicket(status=TicketStatus.SOLUTION_PROPOSED, solution_at=SOLUTION_AT)
    assert "termina amanhã, 5 de dezembro." in text_of(
        speech.describe(ticket, sp(2026, 12, 4, 9, 0))
    )
    assert "termina hoje, 5 de dezembro." in text_of(
        speech.describe(ticket, sp(2026, 12, 5, 23, 59))
    )


def test_solution_proposed_already_postponed() -> None:
    ticket = FakeTicket(
        status=TicketStatus.SOLUTION_PROPOSED, solution_at=SOLUTION_AT, postponed=True
    )
    said = text_of(speech.describe(ticket, NOW))
    # 5 Dec + 45 days = 19 Jan of the next year, so the year is said.
    assert "termina em 19 de janeiro de 2027, daqui a 48 dias." in said
    assert "já foi prorrogado uma vez" in said
    assert "você pode prorrogar" not in said


def test_overdue_solution_is_heard_as_closed_automatically() -> None:
    ticket = FakeTicket(status=TicketStatus.SOLUTION_PROPOSED, solution_at=SOLUTION_AT)
    said = text_of(speech.describe(ticket, sp(2026, 12, 6, 0, 0)))
    assert "Situação: encerrado." in said
    assert "O prazo para aceite terminou em 5 de dezembro" in said
    assert "encerrado automaticamente" in said
    assert "novo chamado" in said
    assert "com solução proposta" not in said
    assert "Especialista" not in said


def test_closed_accepted() -> None:
    ticket = FakeTicket(
        status=TicketStatus.CLOSED,
        solution_at=SOLUTION_AT,
        closed_at=sp(2026, 11, 28, 9, 0),
        closed_how=ClosedHow.ACCEPTED,
    )
    said = text_of(speech.describe(ticket, NOW))
    assert "Situação: encerrado." in said
    assert "O chamado foi encerrado em 28 de novembro, com a solução aceita." in said
    assert "automaticamente" not in said


def test_closed_automatically_recorded() -> None:
    ticket = FakeTicket(
        status=TicketStatus.CLOSED,
        solution_at=SOLUTION_AT,
        closed_at=sp(2026, 12, 6, 0, 0),
        closed_how=ClosedHow.AUTOMATIC,
    )
    said = text_of(speech.describe(ticket, sp(2026, 12, 20, 9, 0)))
    assert "O prazo para aceite terminou em 5 de dezembro e o chamado foi encerrado " \
        "automaticamente." in said


def test_closed_by_support_without_how() -> None:
    ticket = FakeTicket(status=TicketStatus.CLOSED, closed_at=sp(2025, 3, 1, 9, 0))
    said = text_of(speech.describe(ticket, NOW))
    assert "O chamado foi encerrado em primeiro de março de 2025." in said


def test_no_specialist_and_empty_summary() -> None:
    said = text_of(speech.describe(FakeTicket(specialist=None, summary=" "), NOW))
    assert "Ainda sem especialista designado." in said
    assert "Assunto" not in said


def test_long_summary_cut_at_a_word() -> None:
    long = "palavra " * 60
    said = text_of(speech.describe(FakeTicket(summary=long), NOW))
    subject = next(part for part in said.split("Assunto: ")[1:])
    assert len(subject.split(".")[0]) <= speech.SUMMARY_MAX
    assert subject.split(".")[0].endswith("palavra")


def test_dates_come_from_babel() -> None:
    assert speech.spoken_date(sp(2026, 12, 5).date(), sp(2026, 1, 1).date()) == "5 de dezembro"
    assert speech.spoken_date(sp(2027, 3, 1).date(), sp(2026, 1, 1).date()) == (
        "primeiro de março de 2027"
    )


def test_after_postpone_the_new_last_day_is_said() -> None:
    ticket = FakeTicket(
        status=TicketStatus.SOLUTION_PROPOSED, solution_at=SOLUTION_AT, postponed=True
    )
    assert speech.last_day_said(ticket, NOW) == "19 de janeiro de 2027"
    assert speech.last_day_said(FakeTicket(status=TicketStatus.OPEN), NOW) == ""


def test_the_first_of_the_month_is_said_as_an_ordinal() -> None:
    from datetime import date

    from tickets.speech import spoken_date

    assert spoken_date(date(2026, 12, 1), date(2026, 11, 28)) == "primeiro de dezembro"
    assert spoken_date(date(2027, 1, 1), date(2026, 11, 28)) == "primeiro de janeiro de 2027"
    assert spoken_date(date(2026, 12, 11), date(2026, 11, 28)) == "11 de dezembro"
