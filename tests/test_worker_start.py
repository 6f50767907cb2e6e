"""A worker that gunicorn's master starts, at the start or again after one died, finds the
app's modules imported and the dummy bcrypt hash made by the master (``gunicorn.conf.py``):
under load its start takes little from the callers on the line (docs/capacity.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e import live_server

ROOT = Path(__file__).resolve().parent.parent
# CPU of a worker's start to its first answer, measured: 0.84 s when it imports the app's
# modules and makes the dummy hash at cost 12 itself, 0.24 s when the master did.
WORKER_START_SECONDS = 0.5


def test_the_app_imports_nothing_of_its_own_that_the_master_did_not() -> None:
    code = (
        "import sys, app\n"
        "app.import_modules()\n"
        "before = set(sys.modules)\n"
        "app.create_app()\n"
        "ours = ('app', 'config', 'models', *app.PACKAGES)\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in ours))\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_worker_started_again_after_a_kill_finds_the_app_loaded(tmp_path: Path) -> None:
    with live_server(tmp_path, workers=1, environ={"BCRYPT_ROUNDS": "12"}) as live:
        assert live.server.process is not None
        master = live.server.process.pid
        (first,) = _children(master)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            workers = [pid for pid in _children(master) if pid != first]
            if workers and live.server.get("/healthz").status == 200:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("no worker started again")
        assert _cpu_seconds(workers[0]) < WORKER_START_SECONDS
