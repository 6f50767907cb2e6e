"""Tickets on a real database (a SQLite file, or PostgreSQL with TEST_DATABASE_URL): schema,
the caller's changes, the expiry job and its command. Reads: ``test_database_reads``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.orm import Session

from auth.models import Company, Contact
from database.flask_ext import init_app
from database.migrate import alembic_config, upgrade
from database.session import Database
from models import metadata
from tickets import deadlines
from tickets.cli import tickets_cli
from tickets.deadlines import REASON_ALREADY_POSTPONED, REASON_AUTO_CLOSED, SAO_PAULO
from tickets.enums import Area, ClosedHow, EventKind, TicketStatus
from tickets.models import Specialist, Ticket, TicketEvent
from tickets.service import (
    TicketActionRefused,
    TicketConflict,
    accept,
    attach_voice_message,
    expire_overdue,
    postpone,
    reject,
)

US = timedelta(microseconds=1)
TICKET_TABLES = {"specialists", "tickets", "ticket_events"}
CALL_SID = "CA" + "1" * 32
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
       microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SAO_PAULO)


SOLUTION_AT = sp(2026, 11, 20, 16, 0)
DEADLINE = sp(2026, 12, 6, 0, 0)
BEFORE = sp(2026, 12, 1, 10, 0)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.session() as s:
        yield s


class World:
    """Two companies, a contact of the first, a specialist."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.company = Company(cnpj="11222333000181", name="Colégio Exemplo")
        self.other = Company(cnpj="11444777000161", name="Escola Vizinha")
        session.add_all([self.company, self.other])
        session.flush()
        self.contact = Contact(cpf="52998224725", name="Maria Silva", company_id=self.company.id)
        self.specialist = Specialist(
            key="ana.souza", name="Ana Souza", area=Area.EDUCACIONAL, phone="+5511999990001"
        )
        session.add_all([self.contact, self.specialist])
        session.flush()

    def ticket(
        self,
        number: str,
        *,
        company: Company | None = None,
        status: TicketStatus = TicketStatus.SOLUTION_PROPOSED,
        solution_at: datetime | None = SOLUTION_AT,
        postponed: bool = False,
    ) -> Ticket:
        ticket = Ticket(
            number=number,
            company_id=(company or self.company).id,
            area=Area.EDUCACIONAL,
            status=status,
            specialist_id=self.specialist.id,
            summary="Rematrícula não gera boleto",
            opened_at=sp(2026, 11, 2, 10, 15),
            solution_at=solution_at,
            postponed=postponed,
        )
        self.session.add(ticket)
        self.session.flush()
        return ticket


@pytest.fixture
def world(session: Session) -> World:
    built = World(session)
    session.commit()
    return built


def events_of(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(
        session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
    )


# --- schema ---------------------------------------------------------------------------------


def test_migration_matches_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            assert tables >= TICKET_TABLES | {"alembic_version"}
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()

    def table_of(diff: tuple[object, ...] | list[tuple[object, ...]]) -> str | None:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item:
            if isinstance(part, str) and part in TICKET_TABLES:
                return part
            table = getattr(part, "table", None)
            name = getattr(table, "name", None) or getattr(part, "name", None)
            if name in TICKET_TABLES:
                return name
        return None

    assert [d for d in diffs if table_of(d) is not None] == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), "0002_auth")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert not TICKET_TABLES & set(inspect(connection).get_table_names())
    finally:
        engine.dispose()
    upgrade(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= TICKET_TABLES
    finally:
        engine.dispose()


def test_datetimes_come_back_aware_utc(db: Database, world: World) -> None:
    number = world.ticket("12345678").number
    world.session.commit()
    with db.session() as other:
        ticket = other.scalars(select(Ticket).where(Ticket.number == number)).one()
        assert ticket.solution_at == SOLUTION_AT
        assert ticket.solution_at is not None and ticket.solution_at.tzinfo == UTC
        assert ticket.status is TicketStatus.SOLUTION_PROPOSED
        assert ticket.area is Area.EDUCACIONAL
        assert ticket.postponed is False


def test_number_is_unique(world: World) -> None:
    from sqlalchemy.exc import IntegrityError

    world.ticket("12345678")
    with pytest.raises(IntegrityError):
        world.ticket("12345678", company=world.other)


def test_check_constraint_refuses_unknown_status(world: World) -> None:
    from sqlalchemy.exc import IntegrityError

    ticket = world.ticket("12345678")
    world.session.commit()
    with pytest.raises(IntegrityError):
        world.session.execute(
            text("UPDATE tickets SET status = 'lost' WHERE id = :id"), {"id": ticket.id}
        )
    world.session.rollback()


# --- the caller's changes -------------------------------------------------------------------


def test_accept_closes_as_accepted_and_records_event(world: World) -> None:
    ticket = world.ticket("12345678")
    recorded = accept(world.session, ticket, world.contact.id, CALL_SID, BEFORE)
    world.session.commit()
    assert ticket.status is TicketStatus.CLOSED
    assert ticket.closed_how is ClosedHow.ACCEPTED
    assert ticket.closed_at == BEFORE
    [only] = events_of(world.session, ticket)
    assert only.id == recorded.id
    assert (only.kind, only.contact_id, only.call_sid) == (
        EventKind.ACCEPTED, world.contact.id, CALL_SID,
    )
    assert only.at == BEFORE


def test_accept_after_deadline_refused_and_nothing_written(world: World) -> None:
    ticket = world.ticket("12345678")
    world.session.commit()
    with pytest.raises(TicketActionRefused) as refused:
        accept(world.session, ticket, world.contact.id, CALL_SID, DEADLINE)
    assert refused.value.reason == REASON_AUTO_CLOSED
    world.session.rollback()
    assert ticket.status is TicketStatus.SOLUTION_PROPOSED
    assert events_of(world.session, ticket) == []


def test_accept_without_solution_refused(world: World) -> None:
    ticket = world.ticket("12345678", status=TicketStatus.IN_PROGRESS, solution_at=None)
    with pytest.raises(TicketActionRefused, match="não tem solução registrada"):
        accept(world.session, ticket, world.contact.id, CALL_SID, BEFORE)


def test_postpone_once_then_refused(world: World) -> None:
    ticket = world.ticket("12345678")
    recorded = postpone(world.session, ticket, world.contact.id, CALL_SID, BEFORE)
    world.session.commit()
    assert ticket.postponed is True
    assert deadlines.deadline(ticket) == DEADLINE + timedelta(days=45)
    assert recorded.kind is EventKind.POSTPONED
    assert DEADLINE.astimezone(UTC).isoformat() in recorded.detail
    with pytest.raises(TicketActionRefused) as refused:
        postpone(world.session, ticket, world.contact.id, CALL_SID, BEFORE + timedelta(days=1))
    assert refused.value.reason == REASON_ALREADY_POSTPONED
    world.session.rollback()
    assert [e.kind for e in events_of(world.session, ticket)] == [EventKind.POSTPONED]
    # The postponed ticket can still be accepted after the original deadline.
    accept(world.session, ticket, world.contact.id, CALL_SID, DEADLINE + timedelta(days=10))
    assert ticket.closed_how is ClosedHow.ACCEPTED


def test_postpone_after_deadline_refused(world: World) -> None:
    ticket = world.ticket("12345678")
    with pytest.raises(TicketActionRefused) as refused:
        postpone(world.session, ticket, world.contact.id, CALL_SID, DEADLINE)
    assert refused.value.reason == REASON_AUTO_CLOSED
    assert ticket.postponed is False


def test_reject_goes_back_to_in_progress_with_recording(world: World) -> None:
    ticket = world.ticket("12345678", postponed=True)
    recorded = reject(world.session, ticket, world.contact.id, CALL_SID, BEFORE, RECORDING)
    world.session.commit()
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert ticket.solution_at is None
    assert ticket.postponed is False
    [only] = events_of(world.session, ticket)
    assert only.id == recorded.id
    assert only.kind is EventKind.REJECTED
    assert only.recording_url == RECORDING
    assert only.solution_at == SOLUTION_AT
    assert deadlines.can_accept(ticket, BEFORE).allowed is False


@pytest.mark.parametrize("answer", ["accept", "postpone", "reject", "expire"])
def test_an_answer_records_the_solution_it_answered(world: World, answer: str) -> None:
    ticket = world.ticket("12345678")
    contact, session = world.contact.id, world.session
    if answer == "accept":
        accept(session, ticket, contact, CALL_SID, BEFORE)
    elif answer == "postpone":
        postpone(session, ticket, contact, CALL_SID, BEFORE)
    elif answer == "reject":
        reject(session, ticket, contact, CALL_SID, BEFORE, RECORDING)
    else:
        assert expire_overdue(session, DEADLINE) == 1
    session.commit()
    [only] = events_of(session, ticket)
    assert only.solution_at == SOLUTION_AT


def test_reject_after_deadline_refused(world: World) -> None:
    ticket = world.ticket("12345678")
    with pytest.raises(TicketActionRefused) as refused:
        reject(world.session, ticket, world.contact.id, CALL_SID, DEADLINE, RECORDING)
    assert refused.value.reason == REASON_AUTO_CLOSED
    assert ticket.status is TicketStatus.SOLUTION_PROPOSED


def test_voice_message_answers_awaiting_customer(world: World) -> None:
    ticket = world.ticket(
        "12345678", status=TicketStatus.AWAITING_CUSTOMER, solution_at=None
    )
    recorded = attach_voice_message(
        world.session, ticket, world.contact.id, CALL_SID, BEFORE, RECORDING
    )
    world.session.commit()
    assert ticket.status is TicketStatus.IN_PROGRESS
    assert (recorded.kind, recorded.recording_url) == (EventKind.VOICE_MESSAGE, RECORDING)
    on_proposed = world.ticket("12345679")
    attach_voice_message(world.session, on_proposed, None, CALL_SID, BEFORE, RECORDING)
    assert on_proposed.status is TicketStatus.SOLUTION_PROPOSED


def test_voice_message_on_closed_ticket_refused(world: World) -> None:
    ticket = world.ticket("12345678")
    accept(world.session, ticket, world.contact.id, CALL_SID, BEFORE)
    with pytest.raises(TicketActionRefused, match="já está encerrado"):
        attach_voice_message(world.session, ticket, None, CALL_SID, BEFORE, RECORDING)


def test_concurrent_change_loses_instead_of_overwriting(db: Database, world: World) -> None:
    ticket_id = world.ticket("12345678").id
    world.session.commit()
    with db.session() as first, db.session() as second:
        mine = first.get(Ticket, ticket_id)
        theirs = second.get(Ticket, ticket_id)
        assert mine is not None and theirs is not None
        accept(first, mine, world.contact.id, CALL_SID, BEFORE)
        first.commit()
        with pytest.raises(TicketConflict):
            postpone(second, theirs, world.contact.id, "CA" + "2" * 32, BEFORE)
        second.rollback()
    with db.session() as check:
        stored = check.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.status, stored.postponed) == (TicketStatus.CLOSED, False)
        kinds = check.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id))
        assert list(kinds) == [EventKind.ACCEPTED]


# --- expiry ---------------------------------------------------------------------------------


def test_expire_overdue_records_automatic_closings(world: World) -> None:
    due = world.ticket("10000001")
    not_yet = world.ticket("10000002", solution_at=sp(2026, 11, 21, 0, 0))
    postponed = world.ticket("10000003", postponed=True)
    postponed_due = world.ticket(
        "10000004", solution_at=sp(2026, 10, 1, 9, 0), postponed=True
    )
    in_progress = world.ticket("10000005", status=TicketStatus.IN_PROGRESS, solution_at=None)
    world.session.commit()

    now = DEADLINE
    assert expire_overdue(world.session, now) == 2
    world.session.commit()

    for ticket in (due, postponed_due):
        assert ticket.status is TicketStatus.CLOSED
        assert ticket.closed_how is ClosedHow.AUTOMATIC
        assert ticket.closed_at == deadlines.deadline(ticket)
        [only] = events_of(world.session, ticket)
        assert (only.kind, only.at, only.contact_id) == (EventKind.AUTO_CLOSED, now, None)
    assert due.closed_at == DEADLINE
    assert postponed_due.closed_at == sp(2026, 12, 1, 0, 0)  # 1 Oct + 16 + 45 days
    for ticket in (not_yet, postponed, in_progress):
        assert ticket.status is not TicketStatus.CLOSED
        assert events_of(world.session, ticket) == []

    # Idempotent; the one a microsecond short of its deadline goes the next day.
    assert expire_overdue(world.session, now) == 0
    assert expire_overdue(world.session, DEADLINE + timedelta(days=1) - US) == 0
    assert expire_overdue(world.session, DEADLINE + timedelta(days=1)) == 1
    assert not_yet.status is TicketStatus.CLOSED


def test_expire_command(database_url: str, world: World) -> None:
    world.ticket("10000001")
    world.ticket("10000002", solution_at=sp(2026, 11, 25, 9, 0))
    world.session.commit()

    app = Flask("tickets_cli_test")
    database = Database(database_url)
    init_app(app, database)
    app.cli.add_command(tickets_cli)
    runner = app.test_cli_runner()
    try:
        result = runner.invoke(args=["tickets", "expire", "--now", "2026-12-06T00:00:00-03:00"])
        assert result.exit_code == 0, result.output
        assert "1 ticket(s) closed automatically" in result.output
        again = runner.invoke(args=["tickets", "expire", "--now", "2026-12-06T00:00:00-03:00"])
        assert "0 ticket(s) closed automatically" in again.output
        bad = runner.invoke(args=["tickets", "expire", "--now", "2026-12-06 00:00"])
        assert bad.exit_code == 2
        assert "offset" in bad.output
    finally:
        database.dispose()
    world.session.rollback()
    closed = world.session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status == TicketStatus.CLOSED)
    )
    assert closed == 1


def test_expire_leaves_a_ticket_a_caller_changed_meanwhile(db: Database, world: World) -> None:
    raced = world.ticket("10000001")
    other = world.ticket("10000002")
    world.session.commit()
    acted: list[str] = []

    def caller_acts_first(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # The job has read what is overdue; just before its first write, a caller accepts.
        if acted or not statement.lstrip().upper().startswith("UPDATE TICKETS"):
            return
        acted.append(statement)
        with db.transaction() as caller:
            ticket = caller.get(Ticket, raced.id)
            assert ticket is not None
            accept(caller, ticket, world.contact.id, CALL_SID, DEADLINE - US)

    event.listen(db.engine, "before_cursor_execute", caller_acts_first)
    try:
        with db.session() as job:
            assert expire_overdue(job, DEADLINE) == 1
            job.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", caller_acts_first)
    assert len(acted) == 1
    with db.session() as check:
        first = check.get(Ticket, raced.id)
        second = check.get(Ticket, other.id)
        assert first is not None and second is not None
        assert first.closed_how is ClosedHow.ACCEPTED
        assert second.closed_how is ClosedHow.AUTOMATIC
        kinds = check.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == raced.id))
        assert list(kinds) == [EventKind.ACCEPTED]


def test_callers_stale_change_after_expiry_conflicts(db: Database, world: World) -> None:
    ticket_id = world.ticket("10000001").id
    world.session.commit()
    with db.session() as caller:
        seen = caller.get(Ticket, ticket_id)
        assert seen is not None
        with db.transaction() as job:
            assert expire_overdue(job, DEADLINE) == 1
        # The caller's copy still says "solution proposed"; its change must not reopen it.
        seen.status = TicketStatus.IN_PROGRESS
        from sqlalchemy.orm.exc import StaleDataError

        with pytest.raises(StaleDataError):
            caller.flush()
        caller.rollback()


def test_expire_over_many_days_and_both_kinds(world: World) -> None:
    for i in range(8):
        world.ticket(f"{10000001 + i}", solution_at=SOLUTION_AT + timedelta(hours=i * 5))
    world.ticket("10000101", solution_at=sp(2026, 10, 1, 9, 0), postponed=True)
    world.ticket("10000102", solution_at=sp(2026, 10, 2, 9, 0), postponed=True)
    world.session.commit()
    # Solutions every 5 hours from 20 Nov 16:00: two on the 20th (deadline 6 Dec), five on the
    # 21st (7 Dec), one on the 22nd (8 Dec). Postponed: deadlines 1 Dec and 2 Dec.
    assert expire_overdue(world.session, sp(2026, 12, 1, 12, 0)) == 1
    assert expire_overdue(world.session, sp(2026, 12, 7, 0, 0)) == 8
    assert expire_overdue(world.session, sp(2026, 12, 8, 0, 0) - US) == 0
    assert expire_overdue(world.session, sp(2026, 12, 8, 0, 0)) == 1
    world.session.commit()
    count = world.session.scalar(
        select(func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == EventKind.AUTO_CLOSED)
    )
    assert count == 10
    still_open = world.session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.status != TicketStatus.CLOSED)
    )
    assert still_open == 0
