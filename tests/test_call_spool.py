"""A worker killed outright loses no call record step it queued: each is also in its spool file,
which another worker writes to the database once the dead worker's lock is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from ivr.actions import Outcome
from ivr.calls.events import CallStarted, CallStepped, Step, StepTaken
from ivr.calls.models import Call
from ivr.calls.recorder import CallRecorder
from ivr.calls.spool import Spool, decode, encode
from tests.server import ROOT

MOMENT = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
STARTED = CallStarted("CA" + "1" * 32, "+5511987654321", "+551140030015", None)


def test_a_step_reads_back_as_it_was_written() -> None:
    steps: list[Step] = [
        CallStepped("CA" + "1" * 32, ("principal", "cadastro"), "cadastro",
                    Outcome("transferred", "cadastro:+5511900000007"), MOMENT, STARTED),
        CallStepped("CA" + "2" * 32, ("principal",), "principal", None, MOMENT),
        CallStarted("CA" + "3" * 32, None, None, MOMENT),
        StepTaken("CA" + "1" * 32, 1764601200000001, MOMENT, "ivr.step", "principal", "dtmf",
                  "7", 1, None, "transferred", "cadastro:+5511900000007"),
    ]
    data = b"".join(encode(step) for step in steps)
    assert decode(data) == steps
    # A line the kill cut short, or anything else, is skipped.
    assert decode(data + b'["s","CA4",["princ') == steps
    assert decode(b"[1]\n{}\n\xff\n" + data) == steps
    # Those the database has (up to the last mark) are not written again.
    assert decode(data + b'["w",1]\n["w",2]\n') == steps[2:]


WORKER = textwrap.dedent("""
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from database import Database
    from ivr.calls.events import CallStepped
    from ivr.calls.recorder import CallRecorder
    from ivr.calls.spool import Spool

    recorder = CallRecorder(Database(sys.argv[1]), background=False,
                            spool=Spool(Path(sys.argv[2])))
    def step(n):
        return CallStepped(f"CA{n:032d}", ("principal", "suporte"), "suporte", None,
                           datetime.now(UTC))

    recorder.record(step(9))
    recorder.answered()  # its response sent: spooled and queued
    recorder.spool.append(step(8))  # as if answered while step 9 was being written
    recorder.flush(answering=False)  # step 9 in the database, and marked so in the file
    for n in range(3):
        recorder.record(step(n))
        recorder.answered()
    recorder.record(step(7))  # killed before this response went out: not kept
    print("queued", flush=True)
    time.sleep(60)  # never writes: killed first
""")


def rows(app: Flask) -> int:
    with app.extensions["database"].transaction() as session:
        return int(session.scalar(select(func.count()).select_from(Call)) or 0)


def test_the_steps_of_a_killed_worker_are_written_by_another(app: Flask, tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    worker = subprocess.Popen([sys.executable, "-c", WORKER, app.config["DATABASE_URL"],
                               str(directory)], cwd=ROOT, stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    survivor = CallRecorder(app.extensions["database"], background=False,
                            spool=Spool(directory))
    try:
        assert worker.stdout is not None and worker.stdout.readline() == b"queued\n"
        assert survivor.recover() == 0  # a live worker's file is its own
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert rows(app) == 1
        assert survivor.recover() == 4
        assert rows(app) == 5
        with app.extensions["database"].transaction() as session:
            written_once = session.get(Call, f"CA{9:032d}")
            assert written_once is not None and written_once.steps == 1
        assert list(directory.iterdir()) == []
        assert survivor.recover() == 0  # written once, not twice
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        survivor.close()


def test_a_worker_empties_its_file_once_the_database_has_everything(
    app: Flask, tmp_path: Path
) -> None:
    spool = Spool(tmp_path / "spool")
    recorder = CallRecorder(app.extensions["database"], background=False, spool=spool)
    recorder.record(CallStepped("CA" + "5" * 32, ("principal", "suporte"), "suporte", None,
                                MOMENT))
    recorder.answered()
    (own,) = (tmp_path / "spool").iterdir()
    assert own.stat().st_size > 0
    recorder.flush()
    assert own.stat().st_size == 0 and rows(app) == 1
    recorder.close()
    assert not own.exists()  # a worker leaving with everything written takes its file along
