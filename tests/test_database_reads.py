"""How a ticket is read (``tickets.lookup``), on a real database: what the ticket webhooks' read
answers, that it runs as one query and leaves nothing open between requests, and that a lost
database server costs one read, not one per pooled connection."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

from auth.counters import bind_call_login, record_call_failure
from auth.models import Company, Contact
from database.session import Database
from tests.conftest import MARIA_CPF, MARIA_PASSWORD, SignedClient, call_form
from tests.database_faults import restart
from tests.twiml import Doc
from tickets.enums import Area, TicketStatus
from tickets.lookup import (
    CALLER_AND_TICKET,
    Caller,
    SpecialistView,
    TicketView,
    caller_and_ticket,
    ticket_to_change,
)
from tickets.models import Specialist, Ticket

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
SOLUTION_AT = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
SID = "CA" + "1" * 32
OTHER_SID = "CA" + "2" * 32


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


class World:
    """Two companies, a contact of the first logged in on ``SID``, their ticket 12345678 (with
    a specialist) and 23456789 (without), and the other company's 34567890."""

    def __init__(self, database: Database) -> None:
        with database.transaction() as session:
            ours = Company(cnpj="11222333000181", name="Colégio Exemplo")
            other = Company(cnpj="11444777000161", name="Escola Vizinha")
            specialist = Specialist(key="ana.souza", name="Ana Souza", area=Area.EDUCACIONAL,
                                    phone="+5511999990001")
            session.add_all([ours, other, specialist])
            session.flush()
            contact = Contact(cpf="52998224725", name="Maria Silva", company_id=ours.id)
            session.add(contact)
            session.add_all([
                _ticket("12345678", ours, specialist),
                _ticket("23456789", ours, None, status=TicketStatus.IN_PROGRESS, solution_at=None),
                _ticket("34567890", other, specialist),
            ])
            session.flush()
            bind_call_login(session, SID, contact_id=contact.id, company_id=ours.id, now=NOW)
            self.caller = Caller(contact.id, ours.id)


def _ticket(number: str, company: Company, specialist: Specialist | None,
            status: TicketStatus = TicketStatus.SOLUTION_PROPOSED,
            solution_at: datetime | None = SOLUTION_AT) -> Ticket:
    return Ticket(number=number, company_id=company.id, area=Area.EDUCACIONAL, status=status,
                  specialist_id=specialist.id if specialist else None,
                  summary="Rematrícula não gera boleto",
                  opened_at=datetime(2026, 11, 2, tzinfo=UTC), solution_at=solution_at)


@pytest.fixture
def world(database: Database) -> World:
    return World(database)


def read(database: Database, number: str = "12345678",
         sid: str = SID) -> tuple[Caller, TicketView | None] | None:
    """One ticket step's read."""
    return caller_and_ticket(database, sid, number)


# --- what the read answers -------------------------------------------------------------------


def test_the_callers_ticket_with_its_specialist_in_one_query(
    database: Database, world: World
) -> None:
    found = read(database)
    assert found is not None
    caller, ticket = found
    assert caller == world.caller
    assert ticket == TicketView(
        id=ticket.id if ticket else 0, number="12345678", area=Area.EDUCACIONAL,
        status=TicketStatus.SOLUTION_PROPOSED, summary="Rematrícula não gera boleto",
        solution_at=SOLUTION_AT, postponed=False, closed_at=None, closed_how=None,
        specialist=SpecialistView("Ana Souza", "+5511999990001"),
    )
    assert ticket is not None and ticket.solution_at is not None
    assert ticket.solution_at.tzinfo == UTC


def test_a_ticket_without_specialist(database: Database, world: World) -> None:
    found = read(database, "23456789")
    assert found is not None and found[1] is not None
    assert (found[1].status, found[1].solution_at, found[1].specialist) == (
        TicketStatus.IN_PROGRESS, None, None)


def test_another_companys_ticket_is_missing_like_a_missing_one(
    database: Database, world: World
) -> None:
    assert read(database, "34567890") == (world.caller, None)
    assert read(database, "99999999") == (world.caller, None)


@pytest.mark.parametrize("number", ["", "1234567", "123456789", "1234567a", "１２３４５６７８"])
def test_malformed_numbers_are_not_found(database: Database, world: World, number: str) -> None:
    assert read(database, number) == (world.caller, None)


def test_nobody_logged_in_on_the_call_is_none(database: Database, world: World) -> None:
    assert read(database, sid=OTHER_SID) is None
    with database.transaction() as session:  # failed attempts only: a row, but no login
        record_call_failure(session, OTHER_SID, NOW)
    assert read(database, sid=OTHER_SID) is None


def test_a_ticket_read_is_loaded_as_an_orm_object_to_change_it(
    database: Database, world: World
) -> None:
    found = caller_and_ticket(database, SID, "12345678")
    assert found is not None and found[1] is not None
    with database.session() as session:
        ticket = ticket_to_change(session, found[1].id)
        assert isinstance(ticket, Ticket) and ticket.number == "12345678"
        session.delete(ticket)
        session.flush()
        assert ticket_to_change(session, found[1].id) is None  # deleted since it was read
        session.rollback()


def test_the_ticket_is_found_through_the_unique_index_on_its_number(
    database: Database, world: World
) -> None:
    with database.transaction() as session:
        company_id = session.scalar(select(Company.id).where(Company.cnpj == "11222333000181"))
        # Enough tickets of one company that neither a scan nor the company index pays.
        session.execute(insert(Ticket), [
            {"number": f"{20000000 + i:08d}", "company_id": company_id, "area": Area.NFE,
             "status": TicketStatus.OPEN, "opened_at": NOW}
            for i in range(3000)
        ])
    values = {"call_sid": SID, "number": "20000150"}
    assert read(database, "20000150") is not None
    with database.engine.connect() as connection:
        sql = str(CALLER_AND_TICKET.statement.params(**values).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("ANALYZE")
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql))
            assert "USING INDEX ix_tickets_number" in plan, plan
        else:
            connection.exec_driver_sql("ANALYZE tickets")
            plan = " ".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + sql))
            assert "ix_tickets_number" in plan, plan
            assert "Seq Scan on tickets" not in plan, plan


# --- nothing held between requests ------------------------------------------------------------


def test_a_read_sees_what_was_committed_after_the_previous_read(
    database: Database, world: World
) -> None:
    assert read(database, "45678901") == (world.caller, None)
    with database.transaction() as session:
        company_id = session.scalar(select(Company.id).where(Company.cnpj == "11222333000181"))
        session.add(Ticket(number="45678901", company_id=company_id, area=Area.NFE,
                           status=TicketStatus.OPEN, opened_at=NOW))
    found = read(database, "45678901")
    assert found is not None and found[1] is not None and found[1].area == Area.NFE


def test_a_read_leaves_no_transaction_open(database: Database, world: World) -> None:
    """Neither a SQLite snapshot that would hold back the WAL checkpoint, nor a PostgreSQL
    session idle in a transaction, though the reading connection is kept for the next read."""
    read(database)
    assert checked_out(database.reading_engine) == 1
    with database.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            assert busy == 0
        else:
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )).scalar()
            assert waiting == 0


# --- a lost server --------------------------------------------------------------------------


def _read_succeeds(database: Database) -> bool:
    try:
        found = read(database)
    except DBAPIError:
        return False
    assert found is not None and found[1] is not None
    return True


def test_after_a_restart_every_read_succeeds_on_fresh_connections(
    database: Database, world: World
) -> None:
    """The held connection and the pooled ones died with the server: the read that meets the
    dead one tries once more on a fresh one, and nobody hears an apology."""
    assert _read_succeeds(database)
    restart(database)
    assert [_read_succeeds(database) for _ in range(4)] == [True, True, True, True]
    assert checked_out(database.reading_engine) == 1  # the fresh one, held for the next read


def test_a_read_when_the_server_stays_away_fails(database: Database, world: World) -> None:
    unreachable = Database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DBAPIError):
        caller_and_ticket(unreachable, SID, "12345678")
    unreachable.dispose()


def test_after_a_database_restart_the_next_ticket_step_hears_the_ticket(
    app: Flask, signed: SignedClient, demo_data: None
) -> None:
    def post(url: str, digits: str | None = None) -> Doc:
        form = call_form(SID, **({"Digits": digits} if digits is not None else {}))
        response = signed.post(url, form)
        assert response.status_code == 200, response.data
        return Doc.parse(response.data)

    doc = post("/voice")
    doc = post(doc.next_url(), "12345678")
    for keys in (None, MARIA_CPF, MARIA_PASSWORD):  # the login, which comes back to the ticket
        doc = post(doc.next_url(), keys)
    while doc.is_redirect_only:
        doc = post(doc.next_url())
    assert "1 2 3 4 5 6 7 8" in doc.spoken()
    ticket_step = doc.gather.attrib["action"]

    app.extensions["call_recorder"].flush()  # its writes would meet the dead connections first
    restart(app.extensions["database"])
    heard = [post(ticket_step, "*").spoken() for _ in range(3)]
    assert all("1 2 3 4 5 6 7 8" in spoken and "Desculpe" not in spoken for spoken in heard)


def checked_out(engine: Engine) -> int:
    """Connections out of the pool now (every engine here has a QueuePool or its SQLite kin)."""
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


# --- the read on the driver's cursor equals SQLAlchemy's --------------------------------------


def test_the_drivers_cursor_answers_what_sqlalchemy_answers(
    database: Database, world: World
) -> None:
    """Every ticket and call of the world, closed or postponed, with or without a specialist:
    the same row, converted the same way (enums, aware datetimes), as ``Connection.execute``."""
    with database.transaction() as session:
        closed = session.scalars(select(Ticket).where(Ticket.number == "23456789")).one()
        closed.status, closed.closed_at, closed.postponed = TicketStatus.CLOSED, NOW, True
    numbers = ["12345678", "23456789", "34567890", "99999999", "", "1234567x"]
    for call_sid in (SID, "CA" + "0" * 32, ""):
        for number in numbers:
            values = {"call_sid": call_sid, "number": number}
            with database.engine.connect() as connection:
                expected = connection.execute(CALLER_AND_TICKET.statement, values).first()
            got = CALLER_AND_TICKET(database, values)
            assert got == (tuple(expected) if expected is not None else None), values
            if got is not None:
                assert expected is not None
                assert [type(value) for value in got] == [type(value) for value in expected]
