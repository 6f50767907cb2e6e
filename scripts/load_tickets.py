"""Load N synthetic tickets (default 1,000,000) into DATABASE_URL for the benchmark.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/load_tickets.py --count 1000000

Brings the schema up to date first. Known data for the benchmark's calls:

- company ``11222333000181`` ("Colégio Exemplo") and specialist ``ana.souza``;
- that company's tickets ``12345678`` (solution proposed, a week ago), ``12345679`` (in progress)
  and ``12345680`` (closed, accepted);
- ticket ``11111111`` of another company (the known company must hear "not found").

Synthetic tickets are numbered from 20000000 up and spread over ``--companies`` companies.
PostgreSQL loads through COPY; SQLite through executemany in batches, in one transaction.
Prints how long the load took and how long the ticket webhooks' look-up takes afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, Table, delete, func, insert, select
from sqlalchemy.orm import Session

from auth.documents import is_valid_cnpj
from auth.models import CallLogin, Company
from database.migrate import upgrade
from database.session import Database
from tickets.enums import Area, ClosedHow, TicketStatus
from tickets.lookup import caller_and_ticket
from tickets.models import Specialist, Ticket, TicketEvent

KNOWN_CNPJ = "11222333000181"
KNOWN_COMPANY_NAME = "Colégio Exemplo"
KNOWN_SPECIALIST = "ana.souza"
OTHER_COMPANY_NUMBER = "11111111"
KNOWN_NUMBERS = ("12345678", "12345679", "12345680")
FIRST_SYNTHETIC = 20_000_000
MAX_COUNT = 99_999_999 - FIRST_SYNTHETIC + 1
# The call whose login the look-up timing uses (removed again afterwards).
TIMING_CALL_SID = "CA" + "f" * 32

COLUMNS = (
    "number", "company_id", "area", "status", "specialist_id", "summary", "opened_at",
    "solution_at", "postponed", "closed_at", "closed_how", "version",
)


def _cnpj_for(index: int) -> str:
    """A valid CNPJ for synthetic company ``index`` (body from the index, check digits found)."""
    body = f"{90_000_000 + index:08d}0001"
    for suffix in range(100):
        candidate = f"{body}{suffix:02d}"
        if is_valid_cnpj(candidate):
            return candidate
    raise AssertionError(f"no check digits for {body}")  # every body has exactly one pair


def _ensure_reference_data(session: Session, companies: int) -> tuple[int, list[int], int]:
    """The known company, ``companies - 1`` synthetic ones and the known specialist."""
    known = session.scalars(select(Company).where(Company.cnpj == KNOWN_CNPJ)).one_or_none()
    if known is None:
        known = Company(cnpj=KNOWN_CNPJ, name=KNOWN_COMPANY_NAME)
        session.add(known)
    wanted = {_cnpj_for(i): f"Escola Sintética {i}" for i in range(1, companies)}
    existing = set(session.scalars(select(Company.cnpj).where(Company.cnpj.in_(wanted))))
    session.add_all(Company(cnpj=c, name=n) for c, n in wanted.items() if c not in existing)
    specialist = session.scalars(
        select(Specialist).where(Specialist.key == KNOWN_SPECIALIST)
    ).one_or_none()
    if specialist is None:
        specialist = Specialist(
            key=KNOWN_SPECIALIST, name="Ana Souza", area=Area.EDUCACIONAL, phone="+5511999990001"
        )
        session.add(specialist)
    session.flush()
    others = list(session.scalars(select(Company.id).where(Company.cnpj.in_(wanted))))
    return known.id, others, specialist.id


def _rows(
    count: int, known_id: int, others: Sequence[int], specialist_id: int, now: datetime
) -> Iterator[tuple[Any, ...]]:
    week_ago = now - timedelta(days=7)
    other = others[0] if others else known_id
    yield (KNOWN_NUMBERS[0], known_id, Area.EDUCACIONAL.value, TicketStatus.SOLUTION_PROPOSED.value,
           specialist_id, "Rematrícula não gera boleto", now - timedelta(days=20), week_ago, False,
           None, None, 1)
    yield (KNOWN_NUMBERS[1], known_id, Area.FINANCAS.value, TicketStatus.IN_PROGRESS.value,
           specialist_id, "Boleto com valor errado", now - timedelta(days=3), None, False, None,
           None, 1)
    yield (KNOWN_NUMBERS[2], known_id, Area.NFE.value, TicketStatus.CLOSED.value, specialist_id,
           "NFS-e rejeitada pela prefeitura", now - timedelta(days=40), now - timedelta(days=35),
           False, now - timedelta(days=30), ClosedHow.ACCEPTED.value, 1)
    yield (OTHER_COMPANY_NUMBER, other, Area.CADASTRO.value, TicketStatus.OPEN.value, None,
           "Chamado de outra escola", now - timedelta(days=1), None, False, None, None, 1)

    rng = random.Random(20261102)
    companies = list(others) or [known_id]
    areas = [a.value for a in Area]
    statuses = [s.value for s in TicketStatus]
    # A pool of instants shared by the rows keeps generation cheap.
    instants = [now - timedelta(minutes=rng.randrange(0, 60 * 24 * 365)) for _ in range(4096)]
    for i in range(count - 4):
        status = statuses[i % len(statuses)]
        opened = instants[i % 4096]
        solution = closed = closed_how = None
        if status in ("solution_proposed", "closed"):
            solution = opened + timedelta(days=2)
        if status == "closed":
            closed = opened + timedelta(days=5)
            closed_how = "accepted"
        yield (
            f"{FIRST_SYNTHETIC + i:08d}", companies[i % len(companies)], areas[i % len(areas)],
            status, specialist_id if i % 3 == 0 else None, f"Chamado sintético {i}", opened,
            solution, i % 7 == 0 and status == "solution_proposed", closed, closed_how, 1,
        )


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _load_postgresql(engine: Engine, rows: Iterator[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY tickets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _load_sqlite(engine: Engine, rows: Iterator[tuple[Any, ...]], batch: int) -> None:
    # Datetimes as the column type stores them (UTC, SQLite's text format).
    table = Ticket.__table__
    to_db = table.c.opened_at.type.bind_processor(engine.dialect)
    assert to_db is not None
    stamps = {COLUMNS.index(name) for name in ("opened_at", "solution_at", "closed_at")}
    cache: dict[datetime, Any] = {}

    def stored(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            (cache.get(v) or cache.setdefault(v, to_db(v))) if i in stamps and v is not None
            else v
            for i, v in enumerate(row)
        )

    marks = ", ".join("?" for _ in COLUMNS)
    sql = f"INSERT INTO tickets ({', '.join(COLUMNS)}) VALUES ({marks})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB for this connection
        for chunk in _batches(rows, batch):
            cursor.executemany(sql, [stored(row) for row in chunk])
        raw.commit()
    finally:
        raw.close()


def _lookup_timing(database: Database, known_id: int, count: int) -> tuple[float, str]:
    """Mean seconds of the ticket webhooks' read (``tickets.lookup.caller_and_ticket``: the
    known company's tickets and misses), each as a request reads it; and
    the plan. The call login it needs is deleted afterwards."""
    numbers = [*KNOWN_NUMBERS, OTHER_COMPANY_NUMBER, f"{FIRST_SYNTHETIC + count:08d}"]
    login = {"call_sid": TIMING_CALL_SID, "contact_id": None, "company_id": known_id,
             "logged_in_at": datetime.now(UTC), "failures": 0, "updated_at": datetime.now(UTC)}
    with database.transaction() as session:
        session.execute(insert(CallLogin).values(**login))
    try:
        found = caller_and_ticket(database, TIMING_CALL_SID, KNOWN_NUMBERS[0])
        assert found is not None and found[1] is not None
        assert caller_and_ticket(database, TIMING_CALL_SID, OTHER_COMPANY_NUMBER) == (
            found[0], None)
        rounds = 400
        started = time.perf_counter()
        for i in range(rounds):
            caller_and_ticket(database, TIMING_CALL_SID, numbers[i % len(numbers)])
        elapsed = (time.perf_counter() - started) / rounds
        with database.session() as session:
            plan = _plan(session, known_id)
    finally:
        with database.transaction() as session:
            session.execute(delete(CallLogin).where(CallLogin.call_sid == TIMING_CALL_SID))
    return elapsed, plan


def _plan(session: Session, known_id: int) -> str:
    statement = select(Ticket.id).where(
        Ticket.number == KNOWN_NUMBERS[0], Ticket.company_id == known_id
    )
    dialect = session.get_bind().dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if dialect.name == "sqlite" else "EXPLAIN "
    rows = session.connection().exec_driver_sql(prefix + sql).all()
    return "\n".join(str(row[-1]) for row in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="tickets in all")
    parser.add_argument("--companies", type=int, default=1000, help="companies in all")
    parser.add_argument("--batch", type=int, default=50_000, help="rows per executemany")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--replace", action="store_true", help="delete every ticket (and its events) first"
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL or pass --database-url")
    if not 5 <= args.count <= MAX_COUNT:
        parser.error(f"--count must be between 5 and {MAX_COUNT}")
    if args.companies < 2:
        parser.error("--companies must be at least 2 (the known one and another)")

    upgrade(args.database_url)
    database = Database(args.database_url)
    now = datetime.now(UTC)
    with database.transaction() as session:
        existing = session.scalar(select(func.count()).select_from(Ticket)) or 0
        if existing and not args.replace:
            print(f"tickets already holds {existing} rows; pass --replace to start over",
                  file=sys.stderr)
            return 1
        if existing:
            session.execute(delete(TicketEvent))
            session.execute(delete(Ticket))
        known_id, others, specialist_id = _ensure_reference_data(session, args.companies)

    rows = _rows(args.count, known_id, others, specialist_id, now)
    started = time.perf_counter()
    # The secondary indexes are built once at the end, faster than row by row; the unique index
    # on number stays, so a duplicate still fails the load.
    table = Ticket.__table__
    assert isinstance(table, Table)  # typed as a FromClause
    secondary = [index for index in table.indexes if not index.unique]
    with database.engine.begin() as connection:
        for index in secondary:
            index.drop(connection)
    try:
        if database.engine.dialect.name == "postgresql":
            _load_postgresql(database.engine, rows)
        else:
            _load_sqlite(database.engine, rows, args.batch)
    finally:
        with database.engine.begin() as connection:
            for index in secondary:
                index.create(connection)
            connection.exec_driver_sql("ANALYZE tickets")
    took = time.perf_counter() - started

    with database.session() as session:
        loaded = session.scalar(select(func.count()).select_from(Ticket)) or 0
    lookup, plan = _lookup_timing(database, known_id, args.count)
    print(f"loaded {loaded} tickets into {database.engine.dialect.name} in {took:.1f} s "
          f"({loaded / took:,.0f} rows/s)")
    print(f"known company {KNOWN_CNPJ} (id {known_id}): tickets {', '.join(KNOWN_NUMBERS)}; "
          f"{OTHER_COMPANY_NUMBER} belongs to another company")
    print(f"ticket look-up: {lookup * 1e6:.0f} µs on average; plan:\n{plan}")
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
