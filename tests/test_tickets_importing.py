"""The specialists and tickets lists of the import file, through the importer, on a real
database."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from database.session import Database
from importer import ImportRejected
from tests.importing import import_data
from tickets.deadlines import SAO_PAULO
from tickets.enums import Area, ClosedHow, TicketStatus
from tickets.importing import SECTIONS, SpecialistsSection, TicketsSection
from tickets.models import Specialist, Ticket
from tickets.service import accept, expire_overdue, postpone, reject

CNPJ = "11222333000181"
OTHER_CNPJ = "11444777000161"

SPEC_EXAMPLE: dict[str, Any] = {
    "companies": [
        {"cnpj": CNPJ, "name": "Colégio Exemplo"},
        {"cnpj": OTHER_CNPJ, "name": "Escola Vizinha"},
    ],
    "contacts": [
        {"cpf": "52998224725", "name": "Maria Silva", "company": CNPJ,
         "password": "482913", "admin": True},
    ],
    "specialists": [
        {"key": "ana.souza", "name": "Ana Souza", "area": "educacional",
         "phone": "+5511999990001"},
    ],
    "tickets": [
        {"number": "12345678", "company": CNPJ, "area": "educacional",
         "status": "solution_proposed", "specialist": "ana.souza",
         "summary": "Rematrícula não gera boleto",
         "opened_at": "2026-11-02T10:15:00-03:00",
         "solution_at": "2026-11-20T16:00:00-03:00"},
        {"number": "87654321", "company": OTHER_CNPJ, "area": "nfe", "status": "closed",
         "summary": "NFS-e rejeitada", "opened_at": "2026-10-01T09:00:00-03:00",
         "closed_at": "2026-10-10T12:00:00-03:00"},
    ],
}


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SAO_PAULO)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def example() -> dict[str, Any]:
    return copy.deepcopy(SPEC_EXAMPLE)


def ticket_of(db: Database, number: str) -> Ticket:
    with db.session() as session:
        return session.scalars(select(Ticket).where(Ticket.number == number)).one()


def count(db: Database, model: type[Ticket] | type[Specialist]) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def rejected(db: Database, payload: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ImportRejected) as caught:
        import_data(db, payload, rounds=4)
    return caught.value.problems


def test_sections_follow_the_importer_protocol() -> None:
    assert [section.key for section in SECTIONS] == ["specialists", "tickets"]
    assert isinstance(SECTIONS[0], SpecialistsSection)
    assert isinstance(SECTIONS[1], TicketsSection)


def test_spec_example_imports_and_twice_changes_nothing(db: Database) -> None:
    report = import_data(db, example(), rounds=4)
    assert report.section("specialists").created == 1
    assert report.section("tickets").created == 2

    ticket = ticket_of(db, "12345678")
    assert ticket.status is TicketStatus.SOLUTION_PROPOSED
    assert ticket.area is Area.EDUCACIONAL
    assert ticket.opened_at == sp(2026, 11, 2, 10, 15)
    assert ticket.solution_at == sp(2026, 11, 20, 16, 0)
    assert ticket.postponed is False
    assert ticket.specialist_id is not None
    closed = ticket_of(db, "87654321")
    assert (closed.status, closed.closed_at, closed.closed_how) == (
        TicketStatus.CLOSED, sp(2026, 10, 10, 12, 0), None,
    )
    assert closed.specialist_id is None

    again = import_data(db, example(), rounds=4)
    assert not again.changed
    assert again.section("tickets").unchanged == 2
    assert again.section("specialists").unchanged == 1
    assert ticket_of(db, "12345678").version == ticket.version


def test_update_changes_only_what_differs(db: Database) -> None:
    import_data(db, example(), rounds=4)
    payload = example()
    payload["tickets"][0]["status"] = "in_progress"
    payload["specialists"][0]["phone"] = "+55 11 99999-0002"
    report = import_data(db, payload, rounds=4)
    assert report.section("tickets").updated == 1
    assert report.section("tickets").unchanged == 1
    assert report.section("specialists").updated == 1
    assert ticket_of(db, "12345678").status is TicketStatus.IN_PROGRESS
    with db.session() as session:
        phone = session.scalar(select(Specialist.phone).where(Specialist.key == "ana.souza"))
    assert phone == "+5511999990002"


def test_unknown_company_names_the_record_and_writes_nothing(db: Database) -> None:
    payload = example()
    payload["tickets"][1]["company"] = "11222333000262"
    problems = rejected(db, payload)
    assert problems[0].startswith("tickets[1].company: no company with CNPJ 11222333000262")
    assert count(db, Ticket) == 0
    assert count(db, Specialist) == 0


def test_unknown_specialist(db: Database) -> None:
    payload = example()
    payload["tickets"][0]["specialist"] = "joao.lima"
    problems = rejected(db, payload)
    assert problems[0].startswith("tickets[0].specialist: no specialist with key 'joao.lima'")
    assert count(db, Ticket) == 0


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("number", "1234567", "tickets[0].number: String should match pattern"),
        ("number", 12345678, "tickets[0].number: Input should be a valid string"),
        ("company", "11222333000182", "tickets[0].company: invalid check digits"),
        ("area", "vendas", "tickets[0].area: Input should be"),
        ("status", "lost", "tickets[0].status: Input should be"),
        ("opened_at", "2026-11-02T10:15:00", "tickets[0].opened_at: Input should have timezone"),
        ("postponed", "yes", "tickets[0].postponed: Input should be a valid boolean"),
        ("solution_at", None,
         "tickets[0].solution_at: is required when status is solution_proposed"),
        ("solution_at", "2026-11-01T10:00:00-03:00",
         "tickets[0].solution_at: is earlier than opened_at"),
        ("closed_at", "2026-11-25T10:00:00-03:00",
         "tickets[0].closed_at: may only be given when status is closed"),
        ("owner", "x", "tickets[0].owner: unknown field"),
    ],
)
def test_bad_ticket_fields(db: Database, field: str, value: object, problem: str) -> None:
    payload = example()
    payload["tickets"][0][field] = value
    problems = rejected(db, payload)
    assert any(p.startswith(problem) for p in problems), problems
    assert count(db, Ticket) == 0


def test_missing_summary_and_number(db: Database) -> None:
    payload = example()
    del payload["tickets"][0]["summary"]
    del payload["tickets"][1]["number"]
    problems = rejected(db, payload)
    assert "tickets[0].summary: is required" in problems
    assert "tickets[1].number: is required" in problems


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("phone", "11999990001", "specialists[0].phone: must be a phone number in E.164 form"),
        ("phone", "+5511999", "specialists[0].phone: is not a valid phone number"),
        ("area", "suporte", "specialists[0].area: Input should be"),
        ("key", "ana souza", "specialists[0].key: String should match pattern"),
        ("name", "", "specialists[0].name: String should have at least 1 character"),
    ],
)
def test_bad_specialist_fields(db: Database, field: str, value: object, problem: str) -> None:
    payload = example()
    payload["specialists"][0][field] = value
    problems = rejected(db, payload)
    assert any(p.startswith(problem) for p in problems), problems


def test_same_number_twice_in_one_file(db: Database) -> None:
    payload = example()
    payload["tickets"].append(dict(payload["tickets"][0]))
    problems = rejected(db, payload)
    assert "tickets[2].number: same number as tickets[0]" in problems


def test_reimport_keeps_a_callers_postponement_and_acceptance(db: Database) -> None:
    import_data(db, example(), rounds=4)
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        postpone(session, ticket, None, "CA1", sp(2026, 11, 25, 9, 0))
    report = import_data(db, example(), rounds=4)  # the file says nothing of "postponed"
    assert not report.changed
    assert ticket_of(db, "12345678").postponed is True

    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        accept(session, ticket, None, "CA2", sp(2026, 11, 26, 9, 0))
    payload = example()
    payload["tickets"][0]["status"] = "closed"
    import_data(db, payload, rounds=4)
    closed = ticket_of(db, "12345678")
    assert (closed.closed_how, closed.closed_at) == (ClosedHow.ACCEPTED, sp(2026, 11, 26, 9, 0))


def _answer(db: Database, answer: str, at: datetime) -> None:
    with db.transaction() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == "12345678")).one()
        if answer == "accept":
            accept(session, ticket, None, "CA1", at)
        elif answer == "postpone":
            postpone(session, ticket, None, "CA1", at)
        elif answer == "reject":
            reject(session, ticket, None, "CA1", at, "https://api.example.com/rec/RE1")
        else:
            assert expire_overdue(session, at) == 1


def _reimport_after(db: Database, answer: str, at: datetime, **changed: object) -> Ticket:
    """Import the example, let the caller answer, import it again with ``changed`` fields."""
    import_data(db, example(), rounds=4)
    _answer(db, answer, at)
    payload = example()
    payload["tickets"][0].update(changed)
    import_data(db, payload, rounds=4)
    return ticket_of(db, "12345678")


@pytest.mark.parametrize(("answer", "at", "status", "closed_how", "postponed"), [
    ("accept", sp(2026, 11, 26, 9, 0), TicketStatus.CLOSED, ClosedHow.ACCEPTED, False),
    ("postpone", sp(2026, 11, 26, 9, 0), TicketStatus.SOLUTION_PROPOSED, None, True),
    ("reject", sp(2026, 11, 26, 9, 0), TicketStatus.IN_PROGRESS, None, False),
    ("expire", sp(2026, 12, 10, 9, 0), TicketStatus.CLOSED, ClosedHow.AUTOMATIC, False),
])
def test_a_stale_file_does_not_undo_a_callers_answer(
    db: Database, answer: str, at: datetime, status: TicketStatus,
    closed_how: ClosedHow | None, postponed: bool,
) -> None:
    """The export was taken before the call: it still proposes the solution the caller
    answered. Re-importing it (even saying "postponed": false) leaves the answer in place."""
    ticket = _reimport_after(db, answer, at, postponed=False)
    assert (ticket.status, ticket.closed_how, ticket.postponed) == (status, closed_how, postponed)


def test_a_new_solution_after_a_callers_answer_starts_over(db: Database) -> None:
    ticket = _reimport_after(db, "reject", sp(2026, 11, 26, 9, 0),
                             solution_at="2026-11-30T10:00:00-03:00")
    assert (ticket.status, ticket.solution_at, ticket.postponed) == (
        TicketStatus.SOLUTION_PROPOSED, sp(2026, 11, 30, 10, 0), False)


def test_an_answer_to_an_earlier_solution_does_not_hold_a_new_one(db: Database) -> None:
    """Postponed by a caller; then the file brings a new solution, postponed by the team, and
    takes that postponement back: the caller's answer was to the other solution."""
    ticket = _reimport_after(db, "postpone", sp(2026, 11, 26, 9, 0),
                             solution_at="2026-11-30T10:00:00-03:00", postponed=True)
    assert (ticket.solution_at, ticket.postponed) == (sp(2026, 11, 30, 10, 0), True)
    payload = example()
    payload["tickets"][0].update(solution_at="2026-11-30T10:00:00-03:00", postponed=False)
    import_data(db, payload, rounds=4)
    assert ticket_of(db, "12345678").postponed is False


def test_a_ticket_the_team_reopened_takes_the_same_solution_again(db: Database) -> None:
    """Accepted, then reopened by the team: the old acceptance no longer stands, so the file
    proposing that solution again is applied."""
    import_data(db, example(), rounds=4)
    _answer(db, "accept", sp(2026, 11, 26, 9, 0))
    reopened = example()
    reopened["tickets"][0]["status"] = "in_progress"
    import_data(db, reopened, rounds=4)
    assert ticket_of(db, "12345678").status is TicketStatus.IN_PROGRESS
    import_data(db, example(), rounds=4)
    ticket = ticket_of(db, "12345678")
    assert (ticket.status, ticket.closed_at, ticket.closed_how) == (
        TicketStatus.SOLUTION_PROPOSED, None, None)


def test_a_postponement_that_came_in_a_file_can_be_taken_back_by_a_file(db: Database) -> None:
    payload = example()
    payload["tickets"][0]["postponed"] = True
    import_data(db, payload, rounds=4)
    payload["tickets"][0]["postponed"] = False
    import_data(db, payload, rounds=4)
    assert ticket_of(db, "12345678").postponed is False


def test_the_support_team_closing_a_ticket_wins_over_a_postponement(db: Database) -> None:
    ticket = _reimport_after(db, "postpone", sp(2026, 11, 26, 9, 0), status="closed",
                             closed_at="2026-11-27T10:00:00-03:00")
    assert (ticket.status, ticket.closed_at, ticket.closed_how) == (
        TicketStatus.CLOSED, sp(2026, 11, 27, 10, 0), None)


def test_new_solution_resets_postponement_and_null_clears(db: Database) -> None:
    payload = example()
    payload["tickets"][0]["postponed"] = True
    import_data(db, payload, rounds=4)
    assert ticket_of(db, "12345678").postponed is True

    payload = example()
    payload["tickets"][0]["solution_at"] = "2026-12-01T09:00:00-03:00"
    payload["tickets"][0]["specialist"] = None
    import_data(db, payload, rounds=4)
    ticket = ticket_of(db, "12345678")
    assert ticket.solution_at == sp(2026, 12, 1, 9, 0)
    assert ticket.postponed is False
    assert ticket.specialist_id is None


def test_reopened_ticket_loses_its_closing(db: Database) -> None:
    import_data(db, example(), rounds=4)
    payload = example()
    payload["tickets"][1]["status"] = "in_progress"
    del payload["tickets"][1]["closed_at"]
    import_data(db, payload, rounds=4)
    ticket = ticket_of(db, "87654321")
    assert (ticket.status, ticket.closed_at, ticket.closed_how) == (
        TicketStatus.IN_PROGRESS, None, None,
    )


def test_ticket_may_move_to_another_company(db: Database) -> None:
    import_data(db, example(), rounds=4)
    before = ticket_of(db, "87654321").company_id
    payload = example()
    payload["tickets"][1]["company"] = CNPJ
    assert import_data(db, payload, rounds=4).section("tickets").updated == 1
    assert ticket_of(db, "87654321").company_id != before
