"""Where a webhook's time goes, in-process: the app and the bare app called as WSGI apps.

    .venv/bin/python scripts/bench_profile.py                 # µs per request, app vs bare
    .venv/bin/python scripts/bench_profile.py --profile option --top 40
    .venv/bin/python scripts/bench_profile.py --profile ticket --tickets 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

No server and no network, so what remains is the Python cost of one request: the part the
gunicorn benchmark (scripts/bench.py) can only see as lower throughput.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the project's packages live one level up

from ivr.calls.recorder import FLUSH_SECONDS  # noqa: E402
from scripts.bench import (  # noqa: E402
    AUTH_TOKEN,
    BCRYPT_COST,
    DEMO_DATA,
    FROZEN_TIME,
    LOAD_TICKETS,
    MARIA_CPF,
    Provider,
    SignedRequest,
    call_form,
    keyed,
    scratch_database,
)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOST = "127.0.0.1:8000"


def environ_for(request: SignedRequest) -> dict[str, Any]:
    path, _, query = request.path.partition("?")
    body = request.body.encode()
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": HOST, "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "HTTP_X_TWILIO_SIGNATURE": request.signature,
        "HTTP_USER_AGENT": "TwilioProxy/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def call(app: WsgiApp, request: SignedRequest) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(code: str, headers: list[tuple[str, str]], exc: object = None) -> None:
        status.append(code)

    answer = app(environ_for(request), start_response)
    body = b"".join(answer)
    close = getattr(answer, "close", None)
    if close is not None:
        close()  # as a server does once the body is sent (the call recorder's work then)
    return status[0], body


def build_app(url: str, tickets: int = 0) -> Flask:
    from app import create_app, import_sections
    from database.migrate import upgrade
    from database.session import Database
    from importer.run import import_data

    upgrade(url)
    import_data(Database(url), json.loads(DEMO_DATA.read_text()), sections=import_sections(),
                rounds=BCRYPT_COST)
    if tickets:
        subprocess.run([sys.executable, str(LOAD_TICKETS), "--count", str(tickets), "--replace",
                        "--database-url", url], cwd=ROOT, check=True, capture_output=True)
    os.environ["IVR_FROZEN_TIME"] = FROZEN_TIME
    return create_app({"DATABASE_URL": url, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "MENUS_FILE": ROOT / "menus.yaml"})


def request_sets(app: Flask, calls: int) -> dict[str, list[SignedRequest]]:
    provider = Provider(f"http://{HOST}")
    first = provider.sign("/voice", call_form(provider.call_sid(), provider.caller()))
    _, body = call(app, first)
    main = body.decode().split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")

    def many(path: str, **extra: str) -> list[SignedRequest]:
        return [provider.sign(path, call_form(provider.call_sid(), provider.caller(), **extra))
                for _ in range(calls)]

    return {"incoming": many("/voice"), "option": many(main, **keyed("7")),
            "invalid": many(main, **keyed("5")),
            "ticket": ticket_requests(app, provider, main, calls)}


def ticket_requests(app: Flask, provider: Provider, main: str, calls: int
                    ) -> list[SignedRequest]:
    """The ticket status step of logged-in calls (as scripts/bench.py builds them)."""
    from sqlalchemy import select, text

    from auth.counters import bind_call_login
    from auth.models import Contact

    database = app.extensions["database"]
    now = datetime.fromisoformat(FROZEN_TIME)
    with database.transaction() as session:
        contact_id = session.scalar(select(Contact.id).where(Contact.cpf == MARIA_CPF))
        sample = session.execute(
            text("SELECT number, company_id FROM tickets ORDER BY random() LIMIT :n"),
            {"n": calls},
        ).all()
        sids = [provider.call_sid() for _ in range(calls)]
        for index, sid in enumerate(sids):
            bind_call_login(session, sid, contact_id=contact_id,
                            company_id=sample[index % len(sample)].company_id, now=now)
    probe = sample[0].number
    _, body = call(app, provider.sign(main, call_form(sids[0], provider.caller(),
                                                      **keyed(probe))))
    status_url = body.decode().split("<Redirect", 1)[1].split(">", 1)[1].split("<", 1)[0]
    status_url = status_url.replace("&amp;", "&")
    return [provider.sign(status_url.replace(probe, sample[index % len(sample)].number),
                          call_form(sid, provider.caller()))
            for index, sid in enumerate(sids)]


def per_request_us(app: WsgiApp, requests: Sequence[SignedRequest]) -> tuple[float, float]:
    """CPU and wall time per request. CPU is the process's, so the call recorder's writes count
    and the database server's work (PostgreSQL) does not: wall time has it, and any other load."""
    for request in requests[:200]:  # warm caches (rendered TwiML, compiled SQL, imports)
        call(app, request)
    cpu, wall = time.process_time(), time.perf_counter()
    for request in requests:
        status, _ = call(app, request)
        if not status.startswith("200"):
            raise SystemExit(f"{request.path}: {status}")
    count = len(requests)
    return ((time.process_time() - cpu) / count * 1e6, (time.perf_counter() - wall) / count * 1e6)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--database-url",
                        help="a PostgreSQL server to run on (a scratch database is created)")
    parser.add_argument("--tickets", type=int, default=0,
                        help="load N tickets with scripts/load_tickets.py first")
    parser.add_argument("--profile", choices=("incoming", "option", "invalid", "ticket"),
                        help="print a cProfile of this step")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)

    from scripts.bare_app import app as bare

    with (tempfile.TemporaryDirectory(prefix="ivr-profile-", ignore_cleanup_errors=True) as work,
          scratch_database(args.database_url, Path(work)) as url):
        app = build_app(url, args.tickets)
        sets = request_sets(app, args.calls)
        print("µs per request     CPU    wall")
        cpu, wall = per_request_us(bare, sets["incoming"])
        print(f"bare app       {cpu:7.0f} {wall:7.0f}")
        for name, requests in sets.items():
            cpu, wall = per_request_us(app, requests)
            print(f"{name:<14} {cpu:7.0f} {wall:7.0f}")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            per_request_us(app, sets[args.profile])
            profiler.disable()
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
        # Let the call recorder's writer finish before the scratch database goes away.
        time.sleep(2 * FLUSH_SECONDS)
        app.extensions["call_recorder"].flush()
        app.extensions["database"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
