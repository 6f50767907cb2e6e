"""Migration 0006: ``ticket_events.solution_at`` as the models describe it, filled in for the
events written before it (so imports judge a caller's earlier answers as before), and undone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import (
    Boolean,
    Engine,
    Integer,
    String,
    column,
    create_engine,
    insert,
    inspect,
    select,
    table,
    text,
)

from database.base import UTCDateTime
from database.migrate import alembic_config, upgrade
from tests.schema import schema_differences

SOLUTION = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
OLDER = datetime(2026, 11, 10, 19, 0, tzinfo=UTC)
AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
# The two tables, only the columns used here (ticket_events.solution_at: after the upgrade).
TICKETS = table("tickets", column("id", Integer()), column("number", String()),
                column("company_id", Integer()), column("area", String()),
                column("status", String()), column("summary", String()),
                column("opened_at", UTCDateTime()), column("solution_at", UTCDateTime()),
                column("postponed", Boolean()), column("closed_how", String()),
                column("version", Integer()))
EVENTS = table("ticket_events", column("id", Integer()), column("ticket_id", Integer()),
               column("kind", String()), column("detail", String()),
               column("at", UTCDateTime()), column("solution_at", UTCDateTime()))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def test_upgraded_events_table_matches_the_model(database_url: str) -> None:
    assert schema_differences(database_url, {"ticket_events"}) == []


def test_events_before_the_column_get_the_solution_they_answered(
    database_url: str, engine: Engine
) -> None:
    command.downgrade(alembic_config(database_url), "0005_calls_outcome_unindexed")
    tickets = {
        # number: status, solution_at, postponed, closed_how
        "10000001": ("in_progress", None, False, None),  # rejected
        "10000002": ("closed", SOLUTION, False, "accepted"),
        "10000003": ("closed", SOLUTION, False, "automatic"),
        "10000004": ("solution_proposed", SOLUTION, True, None),  # postponed
        # accepted once, then reopened by the team with a new solution: not what it answered
        "10000005": ("solution_proposed", SOLUTION, False, None),
    }
    events = [
        ("10000001", "rejected", f"solution_at {SOLUTION.isoformat()}, postponed"),
        ("10000001", "rejected", f"solution_at {OLDER.isoformat()}"),
        ("10000002", "accepted", ""),
        ("10000003", "auto_closed", "deadline 2026-12-06T03:00:00+00:00"),
        ("10000004", "postponed", "deadline 2026-12-06T03:00:00+00:00 -> ..."),
        ("10000004", "voice_message", ""),
        ("10000005", "accepted", ""),
    ]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO companies (id, cnpj, name) VALUES (1, '11222333000181', 'Colégio')"))
        ids = {}
        for number, (status, solution_at, postponed, closed_how) in tickets.items():
            ids[number] = connection.execute(insert(TICKETS).values(
                number=number, company_id=1, area="nfe", status=status, summary="",
                opened_at=AT, solution_at=solution_at, postponed=postponed,
                closed_how=closed_how, version=1,
            ).returning(TICKETS.c.id)).scalar_one()
        connection.execute(insert(EVENTS), [
            {"ticket_id": ids[number], "kind": kind, "detail": detail, "at": AT}
            for number, kind, detail in events
        ])

    upgrade(database_url)

    with engine.connect() as connection:
        answered = connection.execute(
            select(TICKETS.c.number, EVENTS.c.kind, EVENTS.c.solution_at)
            .join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id).order_by(EVENTS.c.id)
        ).all()
    assert [tuple(row) for row in answered] == [
        ("10000001", "rejected", SOLUTION),
        ("10000001", "rejected", OLDER),
        ("10000002", "accepted", SOLUTION),
        ("10000003", "auto_closed", SOLUTION),
        ("10000004", "postponed", SOLUTION),
        ("10000004", "voice_message", None),
        ("10000005", "accepted", None),
    ]


def test_downgrade_drops_the_column_and_upgrade_adds_it_again(
    database_url: str, engine: Engine
) -> None:
    command.downgrade(alembic_config(database_url), "0005_calls_outcome_unindexed")
    assert "solution_at" not in {c["name"] for c in inspect(engine).get_columns("ticket_events")}
    upgrade(database_url)
    assert schema_differences(database_url, {"ticket_events"}) == []

