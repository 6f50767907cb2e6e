"""What every fault drill shares: a PostgreSQL server of its own, the production layout on it
(``scripts/cluster.py``), callers playing calls through it, the fault, then the report.

The drill's PostgreSQL is a new cluster in a scratch directory on a port of its own (``initdb``
and ``pg_ctl`` run as the ``postgres`` user, which PostgreSQL requires), so a drill can stop and
restart it without touching the machine's server; everything is removed at the end.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ivr.calls.spool import spool_directory
from scripts.cluster import ROOT, Cluster, free_port
from scripts.drills.traffic import AUTH_TOKEN, Findings, Traffic, drill_contacts, examine

IN_HOURS = "2026-12-01T10:00:00-03:00"  # a Tuesday morning: the teams answer


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def can_own_postgres() -> bool:
    """PostgreSQL's programs are installed and this process may run them as ``postgres``."""
    return postgres_bin() is not None and os.geteuid() == 0 and shutil.which("runuser") is not None


class OwnedPostgres:
    """A PostgreSQL cluster this drill creates, starts, stops and removes."""

    def __init__(self, work: Path) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL's server programs are not installed")
        self.bin = binaries
        self.data = work / "pgdata"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)

    def create(self) -> None:
        self.data.parent.chmod(0o755)
        self.data.mkdir()
        shutil.chown(self.data, "postgres", "postgres")
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync")
        self.start()

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                          "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.data, ignore_errors=True)


@dataclass
class Context:
    """What a fault may act on."""

    cluster: Cluster
    postgres: OwnedPostgres
    menus_file: Path
    options: argparse.Namespace
    notes: list[str] = field(default_factory=list)


# Acts on the layout; returns when the fault is over, or the moment (time.monotonic()) it was
# over when it waited on for something else (an instance's return).
Fault = Callable[[Context], float | None]


@dataclass
class Result:
    findings: Findings
    notes: list[str]
    kills: int = 0

    def lines(self) -> list[str]:
        return [*self.findings.lines(), *self.notes]


def prepare(url: str) -> None:
    from app import import_sections
    from database import Database
    from database.migrate import upgrade
    from importer import import_data

    upgrade(url)
    payload = json.loads((ROOT / "demo" / "demo-data.json").read_text())
    payload["contacts"] = [*payload["contacts"], *drill_contacts()]
    database = Database(url)
    import_data(database, payload, sections=import_sections(), rounds=10)
    database.dispose()


class Layout:
    """The drill's PostgreSQL with the demo data and the drill contacts, and the production
    layout on it; a dead instance is started again, as systemd's Restart=always does."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.work = Path(tempfile.mkdtemp(prefix="ivr-drill-"))
        self.postgres = OwnedPostgres(self.work)
        self.menus = self.work / "menus.yaml"
        self.cluster: Cluster | None = None
        self.runs = 0
        self._done = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)

    def __enter__(self) -> Layout:
        try:
            self.postgres.create()
            prepare(self.postgres.url)
            shutil.copy(ROOT / "menus.yaml", self.menus)
            self.cluster = Cluster(self.work / "cluster", self.postgres.url,
                                   self.options.instances, environment={
                                       "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                                       "IVR_FROZEN_TIME": IN_HOURS, "BCRYPT_ROUNDS": "10",
                                       "GUNICORN_WORKERS": str(self.options.workers),
                                       "MENUS_FILE": str(self.menus),
                                       "MENU_RELOAD_SECONDS": "0.5"})
            self.cluster.start()
            self._supervisor.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        if self._supervisor.is_alive():
            self._supervisor.join()
        if self.cluster is not None:
            self.cluster.stop()
        self.postgres.remove()
        # What killed workers left that no other worker took (the database is gone now).
        shutil.rmtree(spool_directory(ROOT / "instance", self.postgres.url), ignore_errors=True)
        if self.options.keep:
            print(f"logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)

    def _supervise(self) -> None:
        while not self._done.wait(0.2):
            assert self.cluster is not None
            self.cluster.restart_dead()

    def exercise(self, fault: Fault, options: argparse.Namespace | None = None) -> Result:
        """Calls for ``options.calm`` seconds, the fault, calls for ``options.after`` seconds
        more; then every call of this exercise checked."""
        options = options or self.options
        assert self.cluster is not None
        context = Context(self.cluster, self.postgres, self.menus, options)
        traffic = Traffic(self.cluster.base, callers=options.callers, run=self.runs)
        self.runs += 1
        traffic.start()
        time.sleep(options.calm)
        fault_started = time.monotonic()
        fault_ended = fault(context) or time.monotonic()
        time.sleep(options.after)
        traffic.stop()
        time.sleep(1.5)  # quiet workers write what they still hold
        findings = examine(traffic.calls, self.postgres.url, fault_ended, fault_started)
        context.notes.append(f"the fault lasted {fault_ended - fault_started:.1f} s")
        return Result(findings, context.notes)


def run(fault: Fault, options: argparse.Namespace) -> Result:
    with Layout(options) as layout:
        return layout.exercise(fault)


def options(argv: list[str] | None = None, **defaults: float) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=24, help="concurrent callers")
    parser.add_argument("--calm", type=float, default=5, help="seconds of calls before the fault")
    parser.add_argument("--after", type=float, default=8, help="seconds of calls after it")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    parser.add_argument("--outage", type=float, default=defaults.get("outage", 30),
                        help="seconds the database refuses connections (database_down)")
    parser.add_argument("--kills", type=int, default=3, help="workers killed (kill_worker)")
    parser.add_argument("--keep", action="store_true", help="keep the logs")
    return parser.parse_args(argv)


def meets_the_bar(result: Result, steps_allowed: int = 0) -> list[str]:
    """What falls short of the bar: no 5xx reaches the provider, no caller left in silence or
    cut off, no lockout count lost, no call record lost beyond the steps in flight, service
    back within seconds."""
    found = result.findings
    problems = []
    if found.provider_5xx:
        problems.append(f"{found.provider_5xx} 5xx reached the provider")
    if found.failed or found.silences:
        problems.append(f"{len(found.failed)} calls failed, {found.silences} silences")
    if found.lockout_lost or found.lockout_doubled or found.logins_lost:
        problems.append("login or lockout counts lost or doubled")
    if found.records_missing or found.steps_lost > steps_allowed or found.steps_doubled:
        problems.append(f"call records: {found.records_missing} missing, {found.steps_lost} "
                        f"steps lost (allowed {steps_allowed}), {found.steps_doubled} doubled")
    if found.back_after > 10:
        problems.append(f"service back only {found.back_after:.1f} s after the fault")
    return problems


def main(title: str, fault: Fault, steps_allowed: Callable[[argparse.Namespace], int]
         = lambda _: 0, **defaults: float) -> int:
    chosen = options(None, **defaults)
    print(f"== drill: {title} ({chosen.callers} callers, {chosen.instances} instances of "
          f"{chosen.workers} workers) ==", flush=True)
    result = run(fault, chosen)
    for line in result.lines():
        print(line)
    problems = meets_the_bar(result, steps_allowed(chosen))
    print("BAR MET" if not problems else "BAR MISSED: " + "; ".join(problems))
    return 1 if problems else 0
