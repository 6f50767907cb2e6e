"""``make cluster`` (scripts/cluster.py): nginx in front of instances started as the systemd unit
starts them, on PostgreSQL; signatures validate through the proxy; a killed instance is started
again; SIGTERM stops everything it started."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.calls.spool import spool_directory
from tests import nginx
from tests.conftest import AUTH_TOKEN, call_form, reset_postgres
from tests.e2e import IN_HOURS
from tests.server import ROOT, ProviderClient, free_port
from tests.twiml import Doc

POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_cluster(environ: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "scripts" / "cluster.py")], cwd=ROOT,
                            env={**os.environ, **environ}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_the_cluster_wants_postgresql(tmp_path: Path) -> None:
    process = start_cluster({"DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"})
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "DATABASE_URL=postgresql" in output


@pytest.mark.skipif(not (POSTGRES and nginx.available()),
                    reason="needs nginx and TEST_DATABASE_URL on PostgreSQL")
def test_make_cluster_serves_calls_survives_an_instance_and_stops_everything() -> None:
    url = os.environ["TEST_DATABASE_URL"]
    reset_postgres(url)
    port = free_port()
    process = start_cluster({"DATABASE_URL": url, "PORT": str(port), "INSTANCES": "2",
                             "GUNICORN_WORKERS": "1", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                             "IVR_FROZEN_TIME": IN_HOURS, "BCRYPT_ROUNDS": "10"})
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith(f"nginx on http://127.0.0.1:{port} "), banner
        instances = [int(p) for p in re.findall(r"http://127\.0\.0\.1:(\d+)", banner)[1:]]
        assert len(instances) == 2
        masters = [int(process.stdout.readline().split()[-1]) for _ in instances]
        client = ProviderClient(f"http://127.0.0.1:{port}", AUTH_TOKEN)

        def call(sid: str) -> str:
            main = client.post("/voice", call_form(sid))
            assert main.status == 200, main.body
            step = Doc.parse(main.body).next_url().removeprefix(client.base)
            answer = client.post(step, call_form(sid, Digits="2"))
            assert answer.status == 200
            return Doc.parse(answer.body).spoken()

        heard = call("CA" + "1" * 32)
        assert "Desculpe" not in heard
        master = masters[0]
        for pid in [master, *map(int, Path(f"/proc/{master}/task/{master}/children")
                                 .read_text().split())]:
            os.kill(pid, signal.SIGKILL)
        # Straight after the kill: nginx sends the calls to the other instance.
        assert all(call(f"CA{n:032d}") == heard for n in range(5))
        assert "started again" in process.stdout.readline()
        deadline = time.monotonic() + 30
        while not listening(instances[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert listening(instances[0])
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
    assert process.returncode == 0
    assert not any(listening(p) for p in [port, *instances])
    reset_postgres(url)
    # Steps the killed instance left and nobody wrote must not reach another test's database.
    shutil.rmtree(spool_directory(ROOT / "instance", url), ignore_errors=True)
