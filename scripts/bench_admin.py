"""Times each page of the admin console over a year of synthetic calls on PostgreSQL.

    .venv/bin/python scripts/bench_admin.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_admin --calls 5000000

Empties the calls, the rollups and the login trail of that database (never point it at
production), then loads through COPY ``--calls`` calls over the 365 days before 2026-12-01 in
the order they came (weekdays busier, mostly in business hours), with the paths and outcomes
of the shipped menu, and a phone login for one call in ten. Then it times: a 7-day overview
counted live from the calls table (no rollups yet), ``admins rollup`` over the year, and every
console page over 7 days and over the whole year, each the median of ``--repeat`` requests
through the app (in-process, logged in). ``--skip-load`` times the rollup and the pages again
on what an earlier run loaded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, text

from admin.accounts import create_admin
from admin.reports import parse_period, totals
from admin.rollups import roll_up
from app import create_app, shutdown
from database.migrate import upgrade
from database.session import Database

END = datetime(2026, 12, 1, tzinfo=UTC)
NOW = END + timedelta(hours=15)  # 12:00 in São Paulo: the console's clock
SECRET = "bench-secret-key-0123456789abcdef0123456789"
ADMIN, PASSWORD = "bench", "timing the console pages"
NUMBERS = 200_000  # distinct callers
TEAM_PATH = "principal,suporte,linha_rm,educacao,ofertas,oferta_p,"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"
# (weight, path, last_node, outcome, detail, transfer_result)
CALLS: tuple[tuple[int, str, str, str, str, str | None], ...] = (
    (10, "principal", "principal", "hung_up", "principal", None),
    (15, "principal,cadastro", "cadastro", "transferred", "cadastro:+5511900000007", None),
    (3, "principal,cadastro,recado", "recado", "voicemail", "recado:" + RECORDING,
     "cadastro:busy"),
    (2, "principal,cadastro,recado", "recado", "unanswered", "cadastro:no-answer",
     "cadastro:no-answer"),
    (15, TEAM_PATH + "educacional", "educacional", "transferred",
     "educacional:+5511900000001", None),
    (10, TEAM_PATH + "gestao_financeira", "gestao_financeira", "transferred",
     "gestao_financeira:+5511900000002", None),
    (7, TEAM_PATH + "nfe", "nfe", "transferred", "nfe:+5511900000003", None),
    (5, "principal,cadastro,fora_do_horario", "fora_do_horario", "closed", "cadastro", None),
    (10, "principal,consulta_chamado", "consulta_chamado", "hung_up", "consulta_chamado",
     None),
    (3, "principal,consulta_chamado", "consulta_chamado", "ticket_accepted", "12345678", None),
    (8, "principal,suporte,linha_rm", "linha_rm", "hung_up", "linha_rm", None),
    (5, "principal,atendente", "atendente", "retries_exhausted", "principal", None),
    (4, TEAM_PATH + "educacional", "educacional", "gave_up", "login:educacional", None),
    (1, "principal", "principal", "error", "", None),
)
# Calls per hour of the day (UTC): most in São Paulo's business hours (10:00-22:00 UTC).
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 8, 12, 12, 10, 9, 12, 12, 11, 9, 7, 5, 4, 3, 2]
DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.3, 0.15)  # Monday first
LOGIN_RESULTS = (("ok", 70), ("bad_password", 20), ("unknown_cpf", 5), ("invalid_cpf", 3),
                 ("bad_password_locks", 1), ("locked", 1))


def number(n: int) -> str:
    return f"+55119{n % NUMBERS:08d}"


def per_day(count: int) -> list[int]:
    """Calls of each of the 365 days before ``END``, oldest first: weekdays busy, Saturdays a
    third of that, Sundays less."""
    days = [END - timedelta(days=365 - n) for n in range(365)]
    weights = [DAY_WEIGHTS[day.weekday()] for day in days]
    counts = [int(count * w / sum(weights)) for w in weights]
    counts[-1] += count - sum(counts)
    return counts


def call_lines(count: int, rng: random.Random) -> Iterator[str]:
    """COPY text lines of the calls table, in the order calls come (start time), as a real
    table fills: a week of calls sits together on disk."""
    weights = [c[0] for c in CALLS]
    n = 0
    for index, calls in enumerate(per_day(count)):
        day = END - timedelta(days=365 - index)
        seconds = sorted(rng.choices(range(24), HOUR_WEIGHTS, k=calls))
        for hour in seconds:
            _, path, last_node, outcome, detail, transfer = rng.choices(CALLS, weights)[0]
            started = day + timedelta(hours=hour, seconds=rng.randrange(3600))
            duration = rng.randrange(5, 600)
            ended = started + timedelta(seconds=duration)
            yield "\t".join((
                f"CA{n:032x}", number(rng.randrange(NUMBERS)), "+551140030015",
                started.isoformat(), ended.isoformat(), str(duration), path,
                str(path.count(",")), ended.isoformat(), last_node, outcome, detail, "completed",
                transfer or "\\N")) + "\n"
            n += 1


def login_lines(count: int, rng: random.Random) -> Iterator[str]:
    results = [r for r, _ in LOGIN_RESULTS]
    weights = [w for _, w in LOGIN_RESULTS]
    for n in range(count):
        at = END - timedelta(seconds=rng.randrange(365 * 24 * 3600))
        yield "\t".join((at.isoformat(), "***.***.***-25", "\\N", number(n), f"CA{n:032x}",
                         rng.choices(results, weights)[0])) + "\n"


CALL_COLUMNS = ("call_sid, from_number, to_number, started_at, ended_at, duration_seconds, "
                "path, steps, updated_at, last_node, outcome, outcome_detail, final_status, "
                "transfer_result")


def copy_lines(engine: Engine, statement: str, lines: Iterator[str]) -> None:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) == 20_000:
                    copy.write("".join(chunk))
                    chunk = []
            copy.write("".join(chunk))
        raw.commit()
    finally:
        raw.close()


def load(url: str, calls: int, seed: int) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(
                "TRUNCATE calls, rolled_days, call_hours, transfer_hours, node_hours, login_hours, "
                "login_attempts, admin_logins, admin_accounts"))
        rng = random.Random(seed)
        started = time.monotonic()
        copy_lines(engine, f"COPY calls ({CALL_COLUMNS}) FROM STDIN",
                   call_lines(calls, rng))
        copy_lines(engine, "COPY login_attempts (at, masked_cpf, contact_id, caller, call_sid, "
                           "result) FROM STDIN", login_lines(calls // 10, rng))
        with engine.begin() as connection:
            connection.execute(text("ANALYZE calls"))
            connection.execute(text("ANALYZE login_attempts"))
        print(f"loaded {calls:,} calls and {calls // 10:,} logins in "
              f"{time.monotonic() - started:.0f} s", flush=True)
    finally:
        engine.dispose()


def clear_rollups(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("TRUNCATE rolled_days, call_hours, transfer_hours, "
                                    "node_hours, login_hours"))
    finally:
        engine.dispose()


def median_ms(client: FlaskClient, url: str, repeat: int) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return statistics.median(times), status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL to fill")
    parser.add_argument("--calls", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="requests per page")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the benchmark is for PostgreSQL")
    upgrade(args.database_url)
    if not args.skip_load:
        load(args.database_url, args.calls, args.seed)
    clear_rollups(args.database_url)  # the rollup is timed whole, every run
    database = Database(args.database_url)
    zone = ZoneInfo("America/Sao_Paulo")
    week, _ = parse_period(None, None, NOW, zone)
    with database.transaction() as session:
        started = time.perf_counter()
        counted = totals(session, week)
        print(f"7 days counted live from the calls table ({counted.calls:,} calls): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    started = time.monotonic()
    days = roll_up(database, NOW)
    print(f"admins rollup: {len(days)} days in {time.monotonic() - started:.0f} s", flush=True)

    app = create_app({"DATABASE_URL": args.database_url, "SECRET_KEY": SECRET,
                      "BCRYPT_ROUNDS": 4, "CLOCK": lambda: NOW})
    try:
        with database.transaction() as session:
            session.execute(text("DELETE FROM admin_accounts"))
            create_admin(session, ADMIN, PASSWORD, now=NOW, rounds=4)
        client = app.test_client()
        from tests.conftest_admin import log_in

        assert log_in(client, ADMIN, PASSWORD) == 302
        year = "from=2025-12-01&to=2026-11-30"
        pages = [
            ("overview, 7 days", "/admin/"),
            ("overview, a year", f"/admin/?{year}"),
            ("drop-off, 7 days", "/admin/funnel"),
            ("drop-off, a year", f"/admin/funnel?{year}"),
            ("node cadastro, a year", f"/admin/nodes/cadastro?{year}"),
            ("menu diagram", "/admin/menu"),
            ("recent calls, 7 days", "/admin/calls"),
            ("recent calls, a year", f"/admin/calls?{year}"),
            ("search a CallSid", f"/admin/calls?q=CA{12345:032x}"),
            ("search a number, 7 days", "/admin/calls?q=%2B551190000777"),
            ("search a number, a year", f"/admin/calls?q=%2B551190000777&{year}"),
            ("preview form", "/admin/preview"),
        ]
        print(f"{'page':<28} {'median ms':>10}  status ({args.repeat} requests each)")
        for name, url in pages:
            ms, status = median_ms(client, url, args.repeat)
            print(f"{name:<28} {ms:>10.1f}  {status}", flush=True)
    finally:
        shutdown(app)
        database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
