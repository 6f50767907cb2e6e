"""Drill: the capacity bar. The load driver's whole calls (``scripts/load_calls.py``: a person's
pacing, the realistic mix of logins, tickets, transfers and hang-ups) through the production
layout (nginx, two gunicorn instances, PostgreSQL, the rate limits in Redis when ``REDIS_URL``
is set), with a gunicorn worker killed and later a whole instance killed (started again, as
systemd's Restart=always does) while the line is full.

    .venv/bin/python scripts/drills/capacity.py [--callers 530] [--hold 500] [--seconds 420] \\
        [--kill-worker-at 200] [--kill-instance-at 300] [--json report.json]

The bar (docs/capacity.md): ``--hold`` calls on the line when each fault strikes, every
call as its script expected, steps but the login p99 under 100 ms, the login p99 under 1.5 s,
every call's record kept. The report adds the server CPU per whole call: the gunicorn instances
(the killed one's too), nginx and PostgreSQL, each from /proc.

The database is a PostgreSQL cluster of the drill's own (``common.OwnedPostgres``) unless
``--database-url`` names one (its data is replaced by the load's).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from sqlalchemy import create_engine, text

from scripts.cluster import Cluster, healthy
from scripts.drills.common import IN_HOURS, OwnedPostgres
from scripts.load_calls import (
    LOGIN_PATH,
    MIXES,
    Report,
    RunOptions,
    percentile,
    prepare,
    process_tree_cpu_seconds,
    run_load,
)

AUTH_TOKEN = "capacity-auth-token"
STEP_P99_MS = 100.0
LOGIN_P99_MS = 1500.0


class CpuMeter:
    """CPU of processes that may be killed and replaced: each root's last reading is kept, so
    an instance killed keeps the CPU it had used (read just before the kill)."""

    def __init__(self) -> None:
        self.last: dict[str, dict[int, float]] = {}
        self.start: dict[str, float] = {}
        self.lock = threading.Lock()

    def read(self, name: str, pids: list[int]) -> None:
        with self.lock:
            seen = self.last.setdefault(name, {})
            for pid in pids:
                value = process_tree_cpu_seconds([pid])
                if value is not None:
                    seen[pid] = value

    def begin(self) -> None:
        with self.lock:
            self.start = {name: sum(pids.values()) for name, pids in self.last.items()}

    def used(self, name: str) -> float:
        with self.lock:
            return sum(self.last.get(name, {}).values()) - self.start.get(name, 0.0)


@dataclass
class Drill:
    options: argparse.Namespace
    cluster: Cluster
    postmaster: int | None
    meter: CpuMeter = field(default_factory=CpuMeter)
    notes: list[str] = field(default_factory=list)
    faults_at: list[float] = field(default_factory=list)  # seconds into the run
    done: threading.Event = field(default_factory=threading.Event)

    def read_cpu(self) -> None:
        masters = [one.process.pid for one in self.cluster.instances
                   if one.process is not None and one.running()]
        self.meter.read("gunicorn", masters)
        if self.cluster.nginx.process is not None:
            self.meter.read("nginx", [self.cluster.nginx.process.pid])
        if self.postmaster is not None:
            self.meter.read("postgresql", [self.postmaster])

    def supervise(self) -> None:
        """systemd's Restart=always, and the CPU readings every second."""
        while not self.done.wait(0.2):
            for instance in self.cluster.restart_dead():
                self.notes.append(f"instance {instance.base} started again")
            self.read_cpu()

    def strike(self, started: float) -> None:
        """The faults, at their times into the run."""
        schedule = sorted((at, name) for at, name in (
            (self.options.kill_worker_at, "worker"), (self.options.kill_instance_at, "instance"))
            if at > 0)
        for at, name in schedule:
            if self.done.wait(max(0.0, started + at - time.monotonic())):
                return
            self.faults_at.append(time.monotonic() - started)
            if name == "worker":
                instance = self.cluster.instances[0]
                worker = instance.workers()[0]
                os.kill(worker, signal.SIGKILL)
                self.notes.append(f"{at:.0f} s: kill -9 of worker {worker} of instance "
                                  f"{instance.base}")
            else:
                instance = self.cluster.instances[-1]
                self.read_cpu()  # what the instance used, before it is gone
                instance.kill()
                killed = time.monotonic()
                while not healthy(instance.base + "/healthz") and time.monotonic() - killed < 60:
                    time.sleep(0.1)
                self.notes.append(f"{at:.0f} s: kill -9 of instance {instance.base} (master and "
                                  f"workers); serving again after "
                                  f"{time.monotonic() - killed:.1f} s")


def steps_around_faults(report: Report, faults: list[float], seconds: float = 30
                        ) -> tuple[float, float]:
    """p99 (ms) of the steps but the login's answered within ``seconds`` after a fault
    (``time.monotonic()``), and of those at other times."""
    near: list[float] = []
    far: list[float] = []
    for call in report.calls:
        for step in call.steps:
            if step.kind != LOGIN_PATH:
                hit = any(0 <= step.at - fault <= seconds for fault in faults)
                (near if hit else far).append(step.seconds)
    return percentile(sorted(near), 99) * 1000, percentile(sorted(far), 99) * 1000


def records_missing(database_url: str, report: Report) -> int:
    """Calls the driver played that have no record, or one the status callback never closed."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        closed = {row[0] for row in connection.execute(text(
            "SELECT call_sid FROM calls WHERE final_status IS NOT NULL"))}
    engine.dispose()
    return sum(1 for call in report.calls if call.call_sid not in closed)


def shortfalls(report: Report, hold: int, faults: int, at_faults: list[int], missing: int
               ) -> list[str]:
    """What falls short of the bar, ``faults`` having been scheduled."""
    data = report.as_dict()
    problems = []
    if len(at_faults) < faults or any(on_line < hold for on_line in at_faults):
        problems.append(f"calls on the line when the faults struck: {at_faults}, "
                        f"wanted {hold} at each of {faults}")
    if report.failed:
        problems.append(f"{len(report.failed)} calls not as scripted")
    if float(str(data["step_p99_ms"])) >= STEP_P99_MS:
        problems.append(f"step p99 {data['step_p99_ms']:.0f} ms")
    if float(str(data["login_p99_ms"])) >= LOGIN_P99_MS:
        problems.append(f"login p99 {data['login_p99_ms']:.0f} ms")
    if missing:
        problems.append(f"{missing} call records missing or not closed")
    return problems


def run(options: argparse.Namespace) -> tuple[Report, list[str], list[str]]:
    """The drill; the load's report, the notes, and what falls short of the bar."""
    work = Path(tempfile.mkdtemp(prefix="ivr-capacity-"))
    postgres = None if options.database_url else OwnedPostgres(work)
    cluster: Cluster | None = None
    drill: Drill | None = None
    threads: list[threading.Thread] = []
    try:
        if postgres is not None:
            postgres.create()
            url = postgres.url
        else:
            url = options.database_url
        pepper = secrets.token_urlsafe(30)
        settings = {"BCRYPT_ROUNDS": str(options.rounds), "PASSWORD_PEPPER": pepper}
        with mock.patch.dict(os.environ, settings):  # prepare hashes as the servers do
            data = prepare(url, options.contacts, options.tickets, work / "load-data.json")
        environment = {**settings, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_FROZEN_TIME": IN_HOURS,
                       "GUNICORN_WORKERS": str(options.workers),
                       "PASSWORD_CHECK_SLOTS": str(options.check_slots)}
        if os.environ.get("REDIS_URL"):
            environment["REDIS_URL"] = os.environ["REDIS_URL"]
        cluster = Cluster(work / "cluster", url, options.instances, environment=environment)
        cluster.start()
        postmaster = (int((postgres.data / "postmaster.pid").read_text().split()[0])
                      if postgres is not None else None)
        drill = Drill(options, cluster, postmaster)
        drill.read_cpu()
        drill.meter.begin()
        started, own_cpu = time.monotonic(), time.process_time()
        threads = [threading.Thread(target=drill.supervise, daemon=True),
                   threading.Thread(target=drill.strike, args=(started,), daemon=True)]
        for thread in threads:
            thread.start()
        report = run_load(RunOptions(
            base_urls=[cluster.base], token=AUTH_TOKEN, data=data, callers=options.callers,
            seconds=options.seconds, pace=options.pace, mix=options.mix, seed=options.seed))
        drill.read_cpu()
        own_cpu = time.process_time() - own_cpu
        report.cpu_seconds = drill.meter.used("gunicorn")
        at_faults = [report.concurrency[min(int(at), len(report.concurrency) - 1)]
                     for at in drill.faults_at if report.concurrency]
        calls = max(len(report.calls), 1)
        notes = [*drill.notes, f"calls on the line when the faults struck: {at_faults}"]
        if drill.faults_at:
            near, far = steps_around_faults(report, [started + at for at in drill.faults_at])
            notes.append(f"steps but the login: p99 {near:.1f} ms within 30 s after a fault, "
                         f"{far:.1f} ms at other times")
        notes += [f"{name} CPU per whole call: {drill.meter.used(name) / calls * 1000:.1f} ms"
                  for name in ("gunicorn", "nginx", "postgresql") if name in drill.meter.last]
        notes.append(f"the drill's own CPU (the callers, the supervisor): {own_cpu:.0f} s, "
                     f"{own_cpu / report.wall_seconds:.0%} of a core")
        missing = records_missing(url, report)
        notes.append(f"call records missing or not closed: {missing}")
        faults = sum(1 for at in (options.kill_worker_at, options.kill_instance_at) if at > 0)
        hold = options.hold if options.hold is not None else int(0.95 * options.callers)
        return report, notes, shortfalls(report, hold, faults, at_faults, missing)
    finally:
        if drill is not None:
            drill.done.set()
        for thread in threads:
            thread.join(timeout=70)
        if cluster is not None:
            cluster.stop()
        if postgres is not None:
            postgres.remove()
        if options.keep:
            print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--callers", type=int, default=530,
                        help="calls the driver keeps on the line (it holds a little under)")
    parser.add_argument("--hold", type=int,
                        help="calls that must be on the line when each fault strikes (default: "
                             "95%% of --callers; the driver aims at --callers)")
    parser.add_argument("--seconds", type=float, default=420,
                        help="how long calls keep arriving")
    parser.add_argument("--kill-worker-at", type=float, default=200,
                        help="seconds into the run (0: no worker killed)")
    parser.add_argument("--kill-instance-at", type=float, default=300,
                        help="seconds into the run (0: no instance killed)")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=5, help="gunicorn workers per instance")
    parser.add_argument("--rounds", type=int, default=12, help="BCRYPT_ROUNDS of the servers")
    parser.add_argument("--check-slots", type=int, default=0,
                        help="PASSWORD_CHECK_SLOTS of the servers (0: no limit)")
    parser.add_argument("--contacts", type=int, default=2000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--mix", choices=sorted(MIXES), default="realistic")
    parser.add_argument("--pace", type=float, default=1.0, help="1: a person's pace")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--database-url", help="a PostgreSQL database to use (default: the "
                                               "drill's own cluster)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the logs")
    return parser.parse_args(argv)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # SIGTERM as Ctrl-C: everything started is stopped


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    options = parse_args(argv)
    print(f"== drill: capacity ({options.callers} callers, {options.instances} instances of "
          f"{options.workers} workers, bcrypt cost {options.rounds}) ==", flush=True)
    report, notes, problems = run(options)
    print(report.text())
    for note in notes:
        print(note)
    if options.json:
        options.json.write_text(json.dumps(
            {**report.as_dict(), "notes": notes, "shortfalls": problems}, indent=2))
    print("BAR MET" if not problems else "BAR MISSED: " + "; ".join(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

