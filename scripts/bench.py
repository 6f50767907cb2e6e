"""Throughput and latency of the webhooks against a bare Flask app, under the same gunicorn.

    .venv/bin/python scripts/bench.py                       # SQLite, every scenario, 10 s each
    .venv/bin/python scripts/bench.py --scenario incoming --scenario option --seconds 20
    .venv/bin/python scripts/bench.py --scenario ticket --tickets 1000000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds a throw-away instance (fresh schema, the demo data with bcrypt cost 12, signatures
checked, the clock frozen on a Tuesday at 10:00 in São Paulo), serves it and
``scripts/bare_app.py`` (a constant TwiML answer that never reads the request) with the same
gunicorn settings, and loads both with wrk on 127.0.0.1 using the same pre-signed, full provider
webhooks (a distinct CallSid per request). Runs alternate bare/app so drift on a shared machine
hits both alike. Needs wrk (``apt-get install -y wrk``).

With ``--database-url`` the script creates a scratch database next to the one named (same
server and credentials), and drops it at the end: the named database is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a file: the project's packages live one level up

from app import import_sections  # noqa: E402
from auth.counters import bind_call_login  # noqa: E402
from auth.models import Contact  # noqa: E402
from auth.pending import remember_cpf  # noqa: E402
from database.migrate import upgrade  # noqa: E402
from database.session import Database  # noqa: E402
from importer.run import import_data  # noqa: E402

AUTH_TOKEN = "bench-auth-token-5f1c0e9a7b3d4c2e"
FROZEN_TIME = "2026-12-01T10:00:00-03:00"  # a Tuesday in business hours: transfers dial
BCRYPT_COST = 12  # the production default; the login scenario measures it
DEMO_DATA = ROOT / "demo" / "demo-data.json"
MARIA_CPF, MARIA_PASSWORD = "52998224725", "482913"  # demo contact of company 11222333000181
LUA_SCRIPT = ROOT / "scripts" / "bench_requests.lua"
GUNICORN_CONF = ROOT / "scripts" / "bench_gunicorn_conf.py"
LOAD_TICKETS = ROOT / "scripts" / "load_tickets.py"
APP_MODULE, BARE_MODULE = "wsgi:app", "scripts.bare_app:app"
SCENARIOS = ("incoming", "option", "invalid", "login", "ticket")
# Texts of the app's failure answers: a sample containing one means the numbers are meaningless.
FAILURE_TEXTS = ("tivemos um problema", "nosso menu foi atualizado")
SAMPLES = 5  # requests of each set sent one by one and checked before the load


@dataclass(frozen=True)
class Bar:
    min_rps_ratio: float
    max_p99_ratio: float | None = None


BARS: dict[str, Bar] = {
    "incoming": Bar(0.7, 1.5),
    "option": Bar(0.7, 1.5),
    "invalid": Bar(0.7, 1.5),
    "ticket": Bar(0.5),
}


@dataclass(frozen=True)
class SignedRequest:
    path: str
    body: str
    signature: str


@dataclass
class RequestSet:
    scenario: str
    requests: list[SignedRequest]
    marker: str  # every good answer of the app contains it
    single_use: bool = False  # each request changes state the next use would not find


@dataclass(frozen=True)
class Run:
    requests: int
    duration_us: int
    statuses: dict[str, int]
    marker_misses: int
    first_bad: str
    socket_errors: int
    timeouts: int
    quantiles_us: list[int]
    worker_cpu_s: float | None = None  # CPU the server's workers used during the run


@dataclass
class Measure:
    """One app's runs in one scenario, merged."""

    runs: list[Run] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(run.requests for run in self.runs)

    @property
    def rps(self) -> float:
        seconds = sum(run.duration_us for run in self.runs) / 1e6
        return self.requests / seconds if seconds else 0.0

    def percentile_ms(self, percent: float) -> float:
        # Each run's 1,000 quantiles stand for an equal share of its requests.
        points = sorted(
            (value, run.requests / len(run.quantiles_us))
            for run in self.runs for value in run.quantiles_us
        )
        wanted = self.requests * percent / 100
        seen = 0.0
        for value, weight in points:
            seen += weight
            if seen >= wanted:
                return value / 1000
        return points[-1][0] / 1000 if points else float("nan")

    @property
    def cpu_us_per_request(self) -> float | None:
        """Worker CPU (user + system, from /proc) per answered request: cost, not throughput,
        so it is much less disturbed by other load on a shared machine."""
        if not self.requests or any(run.worker_cpu_s is None for run in self.runs):
            return None
        return sum(run.worker_cpu_s or 0.0 for run in self.runs) / self.requests * 1e6

    @property
    def bad(self) -> int:
        return sum(run.marker_misses + run.socket_errors + run.timeouts for run in self.runs)

    def problem(self) -> str:
        first = next((run.first_bad for run in self.runs if run.first_bad), "")
        statuses: dict[str, int] = {}
        for run in self.runs:
            for status, count in run.statuses.items():
                statuses[status] = statuses.get(status, 0) + count
        return f"statuses {statuses}; first bad answer: {first[:200]!r}"


@dataclass
class Outcome:
    scenario: str
    app: Measure | None = None
    bare: Measure | None = None
    skipped: str = ""
    note: str = ""
    connections: int = 0


# -- the provider's webhooks -------------------------------------------------------------------


def call_form(call_sid: str, caller: str, **extra: str) -> dict[str, str]:
    """The fields the provider posts with every voice webhook (as in tests/conftest.py)."""
    form = {
        "AccountSid": "AC" + "1" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "Called": "+551140030015",
        "CalledCity": "SAO PAULO",
        "CalledCountry": "BR",
        "CalledState": "SP",
        "CalledZip": "",
        "Caller": caller,
        "CallerCity": "SAO PAULO",
        "CallerCountry": "BR",
        "CallerState": "SP",
        "CallerZip": "",
        "Direction": "inbound",
        "From": caller,
        "FromCity": "SAO PAULO",
        "FromCountry": "BR",
        "FromState": "SP",
        "FromZip": "",
        "To": "+551140030015",
        "ToCity": "SAO PAULO",
        "ToCountry": "BR",
        "ToState": "SP",
        "ToZip": "",
    }
    form.update(extra)
    return form


def keyed(digits: str) -> dict[str, str]:
    """What a <Gather> adds to the form when the caller keyed something."""
    return {"Digits": digits, "FinishedOnKey": "", "msg": "Gather End"}


class Provider:
    """Signs like the provider does: for the exact URL the app will see."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.validator = RequestValidator(AUTH_TOKEN)
        self.rng = random.Random(20261201)

    def call_sid(self) -> str:
        return "CA" + self.rng.getrandbits(128).to_bytes(16, "big").hex()

    def caller(self) -> str:
        return f"+55119{self.rng.randrange(10**8):08d}"

    def sign(self, path: str, form: dict[str, str]) -> SignedRequest:
        signature = self.validator.compute_signature(self.base + path, form)
        return SignedRequest(path, urlencode(form), signature)

    def post(self, request: SignedRequest) -> tuple[int, str]:
        http_request = urllib.request.Request(
            self.base + request.path,
            data=request.body.encode(),
            headers={"X-Twilio-Signature": request.signature,
                     "Content-Type": "application/x-www-form-urlencoded"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(http_request, timeout=15) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def step(self, path: str, form: dict[str, str]) -> ET.Element:
        """One webhook that must succeed; the parsed TwiML."""
        status, body = self.post(self.sign(path, form))
        check_answer(path, status, body, "<Response")
        return ET.fromstring(body)


def check_answer(path: str, status: int, body: str, marker: str) -> None:
    if status == 403:
        sys.exit(f"ABORT: {path} answered 403: the signature did not validate, so every number "
                 "would measure the refusal path. Check AUTH_TOKEN and the signed URL.")
    problem = ""
    if status != 200:
        problem = f"status {status}"
    else:
        try:
            root = ET.fromstring(body)
        except ET.ParseError as error:
            root, problem = None, f"not XML ({error})"
        if root is not None and root.tag != "Response":
            problem = f"root element <{root.tag}>"
        elif marker not in body:
            problem = f"no {marker!r} in the answer"
        elif any(failure in body for failure in FAILURE_TEXTS):
            problem = "the app's failure answer"
    if problem:
        raise BadAnswer(f"{path}: {problem}: {body[:300]!r}")


class BadAnswer(Exception):
    pass


def next_url(root: ET.Element) -> str:
    """Where the provider goes next (as tests/twiml.py reads it)."""
    for tag in ("Gather", "Dial", "Record"):
        element = root.find(f".//{tag}")
        if element is not None:
            return element.attrib["action"]
    redirect = root.find(".//Redirect")
    if redirect is None or not redirect.text:
        raise BadAnswer(f"no next step in {ET.tostring(root)[:300]!r}")
    return redirect.text


# -- scenarios: request sets -------------------------------------------------------------------


def main_menu_url(provider: Provider) -> str:
    """The main menu's Gather action, exactly as the app writes it."""
    return next_url(provider.step("/voice", call_form(provider.call_sid(), provider.caller())))


def incoming_set(provider: Provider, calls: int) -> RequestSet:
    requests = [provider.sign("/voice", call_form(provider.call_sid(), provider.caller()))
                for _ in range(calls)]
    return RequestSet("incoming", requests, "<Gather")


def keys_set(provider: Provider, calls: int, scenario: str, digits: str, marker: str) -> RequestSet:
    url = main_menu_url(provider)
    requests = [
        provider.sign(url, call_form(provider.call_sid(), provider.caller(), **keyed(digits)))
        for _ in range(calls)
    ]
    return RequestSet(scenario, requests, marker)


def maria(database: Database) -> tuple[int, int]:
    with database.session() as session:
        row = session.execute(
            select(Contact.id, Contact.company_id).where(Contact.cpf == MARIA_CPF)
        ).one()
    return row.id, row.company_id


def login_set(provider: Provider, database: Database, calls: int, now: datetime) -> RequestSet:
    """The password step of calls that keyed a valid CPF: each request is one bcrypt check."""
    probe, caller = provider.call_sid(), provider.caller()
    root = provider.step("/voice", call_form(probe, caller))
    for key in "223991":  # support > RM > education > offers > offer P > Educacional (login)
        root = provider.step(next_url(root), call_form(probe, caller, **keyed(key)))
    root = provider.step(next_url(root), call_form(probe, caller))  # the login step: CPF prompt
    password_url = next_url(provider.step(next_url(root),
                                          call_form(probe, caller, **keyed(MARIA_CPF))))
    if not password_url.startswith("/voice/auth/password"):
        raise BadAnswer(f"after the CPF the app asked for {password_url}, not the password")
    sids = [provider.call_sid() for _ in range(calls)]
    # The CPF step's own write, done up front so every request below is a real password check.
    with database.transaction() as session:
        for sid in sids:
            remember_cpf(session, sid, MARIA_CPF, now)
    requests = [
        provider.sign(password_url, call_form(sid, provider.caller(), **keyed(MARIA_PASSWORD)))
        for sid in sids
    ]
    return RequestSet("login", requests, "<Dial", single_use=True)  # on to the Educacional team


def ticket_set(provider: Provider, database: Database, calls: int, now: datetime
               ) -> RequestSet | str:
    """The ticket status step of logged-in calls, over tickets spread through the table."""
    contact_id, company_id = maria(database)
    probe, caller = provider.call_sid(), provider.caller()
    with database.transaction() as session:
        bind_call_login(session, probe, contact_id=contact_id, company_id=company_id, now=now)
        # Most callers ask about one of their own tickets; some key a number that is not theirs.
        sample = session.execute(
            text("SELECT number, company_id FROM tickets ORDER BY random() LIMIT :n"),
            {"n": calls},
        ).all()
    if not sample:
        return "no tickets in the database"
    probe_number = sample[0].number
    main = main_menu_url(provider)
    root = provider.step(main, call_form(probe, caller, **keyed(probe_number)))
    status_url = next_url(root)
    if not status_url.startswith("/voice/tickets/status"):
        return (f"keying a ticket number leads to {status_url!r}, not /voice/tickets/status "
                "(tickets views not there yet?)")
    status, body = provider.post(provider.sign(status_url, call_form(probe, caller)))
    if status == 404 or any(failure in body for failure in FAILURE_TEXTS):
        return f"{status_url.split('?')[0]} is not served yet (status {status}: {body[:120]!r})"
    rows = [(provider.call_sid(), ticket) for ticket in sample]
    while len(rows) < calls:  # fewer tickets than calls (demo data only): reuse them
        rows.append((provider.call_sid(), sample[len(rows) % len(sample)]))
    requests = []
    with database.transaction() as session:
        for index, (sid, ticket) in enumerate(rows):
            # One call in ten keys another company's number: the "not found" answer.
            company = company_id if index % 10 == 9 else ticket.company_id
            bind_call_login(session, sid, contact_id=contact_id, company_id=company, now=now)
            requests.append(provider.sign(status_url.replace(probe_number, ticket.number),
                                          call_form(sid, provider.caller())))
    return RequestSet("ticket", requests, "<Say")


# -- servers and load --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    def __init__(self, name: str, module: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.module = module
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), self.module],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: gunicorn exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:  # any HTTP answer means a worker is serving (the bare app says 405)
                urllib.request.urlopen(self.base + "/healthz", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise RuntimeError(f"{self.name}: not serving after 30 s; see {self.log_path}")

    def worker_cpu_seconds(self) -> float | None:
        """User + system CPU of the master's children so far (Linux /proc; None elsewhere)."""
        if self.process is None or not Path("/proc/self/stat").exists():
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The command may hold spaces: fields are counted after its closing ")".
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # the process ended meanwhile
            if int(fields[1]) == self.process.pid:  # ppid
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Load:
    wrk: str
    threads: int
    connections: int
    work_dir: Path

    def run(self, server: Gunicorn, requests_file: Path, marker: str, offset: int,
            seconds: float, connections: int | None = None) -> Run:
        command = [
            self.wrk, f"-t{self.threads}", f"-c{connections or self.connections}",
            f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(LUA_SCRIPT),
            server.base, "--", str(requests_file), marker, str(offset),
        ]
        cpu_before = server.worker_cpu_seconds()
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              check=False)
        cpu_after = server.worker_cpu_seconds()
        line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")),
                    None)
        if done.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
        data = json.loads(line.removeprefix("BENCH_JSON "))
        run = Run(
            requests=data["requests"], duration_us=data["duration_us"],
            statuses=data["statuses"], marker_misses=data["marker_misses"],
            first_bad=data["first_bad"], socket_errors=data["socket_errors"],
            timeouts=data["timeouts"], quantiles_us=data["quantiles_us"],
            worker_cpu_s=(cpu_after - cpu_before
                          if cpu_before is not None and cpu_after is not None else None),
        )
        if server.module == APP_MODULE and run.statuses.get("403"):
            sys.exit(f"ABORT: {run.statuses['403']} answers were 403 (bad signature) on "
                     f"{server.name}: the numbers would be meaningless. {run.first_bad[:200]!r}")
        return run


def write_requests(request_set: RequestSet, work_dir: Path) -> Path:
    path = work_dir / f"requests-{request_set.scenario}.tsv"
    with open(path, "w") as out:
        for request in request_set.requests:
            out.write(f"{request.path}\t{request.signature}\t{request.body}\n")
    return path


def measure(request_set: RequestSet, app: Gunicorn, bare: Gunicorn, load: Load,
            seconds: float, rounds: int, warmup: float, connections: int | None = None
            ) -> Outcome:
    """Checks a sample one by one, warms both up, then alternates bare and app runs."""
    sample = request_set.requests[:SAMPLES]
    provider_post = Provider(app.base)
    for request in sample:
        status, body = provider_post.post(request)
        check_answer(request.path, status, body, request_set.marker)
    requests_file = write_requests(request_set, load.work_dir)
    offset = len(sample)  # single-use requests already sent stay sent
    outcome = Outcome(request_set.scenario, Measure(), Measure(),
                      connections=connections or load.connections)
    assert outcome.app is not None and outcome.bare is not None
    plan: list[tuple[Gunicorn, Measure | None]] = [(bare, None), (app, None)] * (warmup > 0)
    plan += [(bare, outcome.bare), (app, outcome.app)] * rounds
    for server, into in plan:
        duration = max(1, round(seconds / rounds)) if into is not None else warmup
        marker = request_set.marker if server is app else "<Response"
        run = load.run(server, requests_file, marker, offset, duration, connections)
        if server is app:
            offset += run.requests + 2 * (connections or load.connections)  # + those in flight
        if into is not None:
            into.runs.append(run)
    if request_set.single_use and offset > len(request_set.requests):
        outcome.note = (f"{offset} requests sent for {len(request_set.requests)} calls: "
                        "some were replays (raise --calls)")
    return outcome


# -- instance ----------------------------------------------------------------------------------


@contextmanager
def scratch_database(server_url: str | None, work_dir: Path) -> Iterator[str]:
    """A database nobody else uses: a SQLite file, or a new database on the given server."""
    if not server_url:
        yield f"sqlite:///{work_dir / 'bench.sqlite3'}"
        return
    url = make_url(server_url)
    if url.get_backend_name() != "postgresql":
        sys.exit("--database-url: only PostgreSQL URLs (the default is SQLite)")
    name = f"ivr_bench_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def prepare_database(url: str, tickets: int) -> str:
    """Schema, demo data, and optionally N tickets. Returns a note on the tickets loaded."""
    upgrade(url)
    import_data(Database(url), json.loads(DEMO_DATA.read_text()), sections=import_sections(),
                rounds=BCRYPT_COST)
    if not tickets:
        return "demo tickets only"
    if not LOAD_TICKETS.exists():
        return f"{LOAD_TICKETS.relative_to(ROOT)} is missing: demo tickets only"
    print(f"loading {tickets:,} tickets with {LOAD_TICKETS.relative_to(ROOT)} ...", flush=True)
    done = subprocess.run(
        [sys.executable, str(LOAD_TICKETS), "--count", str(tickets), "--replace",
         "--database-url", url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    print(done.stdout.strip())
    if done.returncode != 0:
        sys.exit(f"load_tickets.py failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return f"{tickets:,} tickets"


def server_env(database_url: str, work_dir: Path, workers: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in {"PUBLIC_BASE_URL", "PROXY_HOPS", "GUNICORN_CMD_ARGS"}}
    menus = work_dir / "menus.yaml"
    shutil.copy(ROOT / "menus.yaml", menus)  # edits to the live file must not land mid-run
    env.update({
        "DATABASE_URL": database_url,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_VALIDATE_SIGNATURES": "1",
        "IVR_FROZEN_TIME": FROZEN_TIME,
        "BCRYPT_ROUNDS": str(BCRYPT_COST),
        "MENUS_FILE": str(menus),
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_ACCESS_LOG": "",  # off for both (scripts/bench_gunicorn_conf.py)
        "GUNICORN_MAX_REQUESTS": "0",
        "PYTHONPATH": str(ROOT),
    })
    return env


# -- report ------------------------------------------------------------------------------------


def verdict(outcome: Outcome) -> str:
    app, bare = outcome.app, outcome.bare
    assert app is not None and bare is not None
    if app.bad:
        return f"FAIL ({app.bad} bad answers)"
    bar = BARS.get(outcome.scenario)
    if bar is None:
        return "n/a (bcrypt-bound)" if outcome.scenario == "login" else "n/a"
    ratio = app.rps / bare.rps
    p99_ratio = app.percentile_ms(99) / bare.percentile_ms(99)
    ok = ratio >= bar.min_rps_ratio and (bar.max_p99_ratio is None
                                         or p99_ratio <= bar.max_p99_ratio)
    limits = f"rps>={bar.min_rps_ratio}" + (f", p99<={bar.max_p99_ratio}x"
                                            if bar.max_p99_ratio else "")
    return f"{'PASS' if ok else 'FAIL'} ({limits})"


def run_ratios(outcome: Outcome) -> tuple[float, float]:
    """The lowest and highest app/bare throughput ratio of adjacent runs: the noise."""
    assert outcome.app is not None and outcome.bare is not None
    ratios = [
        (app.requests / app.duration_us) / (bare.requests / bare.duration_us)
        for app, bare in zip(outcome.app.runs, outcome.bare.runs, strict=True)
        if app.requests and bare.requests
    ]
    return (min(ratios), max(ratios)) if ratios else (float("nan"), float("nan"))


def print_report(outcomes: Sequence[Outcome], header: str) -> None:
    print()
    print(header)
    columns = (f"{'scenario':<9} {'app rps':>8} {'bare rps':>9} {'ratio':>6} {'(runs)':>11} "
               f"{'app p50/p99 ms':>15} {'bare p50/p99 ms':>16} {'p99 ratio':>9}  verdict")
    print(columns)
    print("-" * (len(columns) + 24))
    for outcome in outcomes:
        if outcome.skipped:
            print(f"{outcome.scenario:<9} skipped: {outcome.skipped}")
            continue
        app, bare = outcome.app, outcome.bare
        assert app is not None and bare is not None
        low, high = run_ratios(outcome)
        app_lat = f"{app.percentile_ms(50):.2f}/{app.percentile_ms(99):.2f}"
        bare_lat = f"{bare.percentile_ms(50):.2f}/{bare.percentile_ms(99):.2f}"
        print(f"{outcome.scenario:<9} {app.rps:>8.1f} {bare.rps:>9.1f} "
              f"{app.rps / bare.rps:>6.2f} {f'({low:.2f}-{high:.2f})':>11} {app_lat:>15} "
              f"{bare_lat:>16} {app.percentile_ms(99) / bare.percentile_ms(99):>9.2f}  "
              f"{verdict(outcome)}")
        if app.bad:
            print(f"{'':<9} app problems: {app.problem()}")
        if outcome.note:
            print(f"{'':<9} note: {outcome.note}")
    costs = [
        (o.scenario, o.app.cpu_us_per_request, o.bare.cpu_us_per_request)
        for o in outcomes if o.app is not None and o.bare is not None and not o.skipped
    ]
    if costs and all(app is not None and bare is not None for _, app, bare in costs):
        print("\nworker CPU per request (µs, user+system): "
              + ", ".join(f"{name} app {app:.0f} / bare {bare:.0f}" for name, app, bare in costs))
    for outcome in outcomes:
        if outcome.scenario == "login" and outcome.app is not None and not outcome.skipped:
            app = outcome.app
            print(f"\nlogin step (password check, bcrypt cost {BCRYPT_COST}, "
                  f"{outcome.connections} connections): p50 {app.percentile_ms(50):.1f} ms, "
                  f"p99 {app.percentile_ms(99):.1f} ms, {app.rps:.1f} logins/s over "
                  f"{app.requests} logins")


# -- main --------------------------------------------------------------------------------------


def run_scenarios(scenarios: Sequence[str], args: argparse.Namespace, app: Gunicorn,
                  bare: Gunicorn, database: Database, work_dir: Path, wrk: str,
                  outcomes: list[Outcome]) -> None:
    load = Load(wrk, args.threads, args.connections, work_dir)
    provider = Provider(app.base)
    now = datetime.fromisoformat(FROZEN_TIME)
    for scenario in scenarios:
        print(f"{scenario}: preparing {args.calls} calls ...", flush=True)
        connections = None
        if scenario == "incoming":
            request_set: RequestSet | str = incoming_set(provider, args.calls)
        elif scenario == "option":
            request_set = keys_set(provider, args.calls, "option", "7", "<Dial")
        elif scenario == "invalid":
            request_set = keys_set(provider, args.calls, "invalid", "5", "Opção inválida")
        elif scenario == "login":
            request_set = login_set(provider, database, args.calls, now)
            connections = args.login_connections or args.workers
        elif not LOAD_TICKETS.exists() and args.tickets:
            request_set = f"{LOAD_TICKETS.relative_to(ROOT)} is missing"
        else:
            request_set = ticket_set(provider, database, args.calls, now)
        if isinstance(request_set, str):
            print(f"{scenario}: skipped: {request_set}")
            outcomes.append(Outcome(scenario, skipped=request_set))
            continue
        print(f"{scenario}: measuring ...", flush=True)
        outcomes.append(measure(request_set, app, bare, load, args.seconds, args.rounds,
                                args.warmup, connections))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured seconds per app per scenario, split over --rounds")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating bare/app runs per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per app")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, both apps")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections, both apps")
    parser.add_argument("--login-connections", type=int, default=None,
                        help="wrk connections for the login step (default: --workers, so the "
                             "latency is the step's own, not time queued behind bcrypt)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--calls", type=int, default=5000,
                        help="distinct CallSids (pre-signed requests) per scenario")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS,
                        help="repeat to pick several (default: all)")
    parser.add_argument("--database-url",
                        help="a PostgreSQL server to run on (a scratch database is created)")
    parser.add_argument("--tickets", type=int, default=0,
                        help="load N tickets with scripts/load_tickets.py first")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < SAMPLES + 100 or args.seconds <= 0:
        parser.error("--rounds >= 1, --calls >= 105 and --seconds > 0")
    return args


def run_seconds(args: argparse.Namespace) -> int:
    return max(1, round(args.seconds / args.rounds))  # wrk takes whole seconds


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is not installed: apt-get install -y wrk (Debian/Ubuntu), brew install wrk "
              "(macOS), or build it from https://github.com/wg/wrk", file=sys.stderr)
        return 2
    scenarios = [name for name in SCENARIOS if name in (args.scenario or SCENARIOS)]
    work_dir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    outcomes: list[Outcome] = []
    try:
        with scratch_database(args.database_url, work_dir) as url:
            tickets_note = prepare_database(url, args.tickets if "ticket" in scenarios else 0)
            database = Database(url)
            env = server_env(url, work_dir, args.workers)
            app = Gunicorn("app", APP_MODULE, env, work_dir)
            bare = Gunicorn("bare", BARE_MODULE, env, work_dir)
            try:
                app.start()
                bare.start()
                run_scenarios(scenarios, args, app, bare, database, work_dir, wrk, outcomes)
            finally:
                database.dispose()
                app.stop()
                bare.stop()
    except BadAnswer as error:
        print(f"ABORT: a sample answer was wrong, the numbers would be meaningless: {error}",
              file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"work directory kept: {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    database_name = "PostgreSQL" if args.database_url else "SQLite"
    header = (f"{database_name} ({tickets_note}), {args.workers} workers each, wrk "
              f"-t{args.threads} -c{args.connections}, per app and scenario {args.rounds} "
              f"alternating runs of {run_seconds(args)} s after {args.warmup:g} s of warm-up, "
              "signatures checked, access log off")
    print_report(outcomes, header)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps([_as_dict(outcome) for outcome in outcomes], indent=2))
    failed = any(not o.skipped and verdict(o).startswith("FAIL") for o in outcomes)
    return 1 if failed else 0


def _as_dict(outcome: Outcome) -> dict[str, object]:
    result: dict[str, object] = {"scenario": outcome.scenario, "skipped": outcome.skipped}
    for name, measured in (("app", outcome.app), ("bare", outcome.bare)):
        if measured is not None and measured.runs:
            result[name] = {"rps": measured.rps, "p50_ms": measured.percentile_ms(50),
                            "p99_ms": measured.percentile_ms(99), "requests": measured.requests,
                            "bad": measured.bad,
                            "worker_cpu_us_per_request": measured.cpu_us_per_request}
    if not outcome.skipped:
        result["verdict"] = verdict(outcome)
    return result


if __name__ == "__main__":
    sys.exit(main())
