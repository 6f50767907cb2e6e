"""``/metrics`` through a real gunicorn with two workers: what the test did, counted once, summed
over the workers; and who may read it (loopback, or the bearer token), also through nginx."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from telemetry import multiprocess
from telemetry.exposition import bearer_matches, from_this_machine
from tests import nginx
from tests.conftest import JOAO_CPF, call_form
from tests.e2e import LiveServer, live_server
from tests.server import HttpResponse, _send
from tests.test_voice_login import post, to_team_login

TOKEN = "metrics-token-0123456789abcdef"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples_of(text: str) -> Samples:
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def get(url: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return _send(urllib.request.Request(url, headers=headers or {}))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Path]]:
    tmp = tmp_path_factory.mktemp("metrics")
    metrics_dir = tmp / "prometheus"
    with live_server(tmp, environ={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                                   "METRICS_TOKEN": TOKEN}) as server:
        yield server, metrics_dir


def busy_transfer(live: LiveServer, n: int) -> None:
    """Option 7 (cadastro, no login) dialled, and the team's line busy."""
    sid = f"CA{n:032d}"
    doc = post(live.caller, "/voice", sid=sid)
    doc = post(live.caller, doc.next_url(), "7", sid)
    assert doc.dial_target() == "+5511900000007"
    response = live.caller.post(doc.next_url(), call_form(sid, DialCallStatus="busy"))
    assert response.status_code == 200


def wrong_passwords(live: LiveServer, sid: str, tries: int) -> None:
    doc = to_team_login(live.caller, sid=sid, caller="+5511977770000")
    for _ in range(tries):
        doc = post(live.caller, doc.next_url(), JOAO_CPF, sid, "+5511977770000")
        doc = post(live.caller, doc.next_url(), "000000", sid, "+5511977770000")


def per_worker(metrics_dir: Path, tmp: Path) -> list[float]:
    """Each worker's own count of webhooks, read from its file alone."""
    counts = []
    tmp.mkdir()
    for index, file in enumerate(sorted(metrics_dir.glob("counter_*.db"))):
        alone = tmp / f"worker{index}"
        alone.mkdir()
        shutil.copy(file, alone / file.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts.append(sum(v for (name, _), v in samples_of(generate_latest(registry).decode())
                          .items() if name == "ivr_webhooks_total"))
    return counts


def test_metrics_count_what_the_calls_did_summed_over_both_workers(
        live: tuple[LiveServer, Path], tmp_path: Path) -> None:
    server, metrics_dir = live
    calls = 0
    # Concurrent calls, so that both workers serve; under load the second may still be
    # starting, so rounds go on until both have (each worker's own file says).
    for _ in range(10):
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: busy_transfer(server, n), range(calls, calls + 16)))
        calls += 16
        if len([count for count in per_worker(metrics_dir, tmp_path / str(calls)) if count]) == 2:
            break
    wrong_passwords(server, "CA" + "e" * 32, 3)  # the call's limit
    wrong_passwords(server, "CA" + "f" * 32, 2)  # the contact's 5th failure in a row: locked
    forged = server.caller.client.post("/voice", call_form("CA" + "d" * 32), signature="forged")
    assert forged.status == 403

    response = server.server.get("/metrics")
    assert response.status == 200
    assert response.content_type.startswith("text/plain")
    samples = samples_of(response.body.decode())

    # every call: /voice, key 7, the dial result; the login calls add their own steps
    assert value(samples, "ivr_transfers_total", team="cadastro", outcome="busy") == calls
    assert value(samples, "ivr_webhooks_total", step="ivr.dialed", outcome="answered") == calls
    assert value(samples, "ivr_webhook_seconds_count", step="ivr.dialed") == calls
    assert value(samples, "ivr_webhooks_total", step="ivr.incoming",
                 outcome="answered") == calls + 2
    assert value(samples, "ivr_webhooks_total", step="ivr.incoming", outcome="refused") == 1
    assert value(samples, "ivr_webhooks_total", step="auth.password", outcome="answered") == 5
    assert value(samples, "ivr_logins_total", result="bad_password") == 4
    assert value(samples, "ivr_logins_total", result="bad_password_locks") == 1
    assert value(samples, "ivr_login_failures_total") == 5
    assert value(samples, "ivr_login_lockouts_total") == 1
    slow = value(samples, "ivr_webhook_seconds_bucket", step="auth.password", le="10.0")
    assert slow == 5
    version = json.loads(server.server.get("/healthz").body)["menu"]["version"]
    assert value(samples, "ivr_menu_loaded", version=version) == 1
    assert ("ivr_call_record_steps_queued", frozenset()) in samples

    # Summed, not one worker's: each worker's file holds part of the count.
    workers = per_worker(metrics_dir, tmp_path / "end")
    total = sum(v for (name, _), v in samples.items() if name == "ivr_webhooks_total")
    assert len([count for count in workers if count > 0]) == 2
    assert sum(workers) == total


def local_address() -> str | None:
    """An address of this machine beyond loopback, if it has one."""
    try:
        found = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return next((a for a in found.stdout.split() if "." in a and not a.startswith("127.")),
                None)


@pytest.mark.skipif(not nginx.available(), reason="nginx is not installed")
def test_through_nginx_only_loopback_or_the_token_reads_metrics(
        live: tuple[LiveServer, Path], tmp_path: Path) -> None:
    server, _ = live
    address = local_address()
    if address is None:
        pytest.skip("this machine has no address beyond loopback")
    upstream = [f"127.0.0.1:{server.server.port}"]
    inside = nginx.Nginx(tmp_path / "inside", upstream)
    outside = nginx.Nginx(tmp_path / "outside", upstream, host=address)
    inside.start()
    outside.start()
    try:
        assert get(inside.base + "/metrics").status == 200
        # From beyond loopback nginx names the client in X-Forwarded-For; gunicorn's peer is
        # still 127.0.0.1.
        assert get(outside.base + "/metrics").status == 403
        assert get(outside.base + "/metrics", {"Authorization": "Bearer wrong"}).status == 403
        assert get(outside.base + "/metrics",
                   {"Authorization": f"Bearer {TOKEN}x"}).status == 403
        granted = get(outside.base + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert granted.status == 200
        assert b"ivr_webhooks_total" in granted.body
        # A client beyond loopback cannot pass for local by naming 127.0.0.1 itself.
        assert get(outside.base + "/metrics", {"X-Forwarded-For": "127.0.0.1"}).status == 403
    finally:
        outside.stop()
        inside.stop()


def test_without_a_token_the_page_does_not_exist_beyond_loopback(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics").status_code == 200
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert remote.status_code == 404
    assert b"ivr_" not in remote.data
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                      headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize(("environ", "local"), [
    ({"REMOTE_ADDR": "127.0.0.1"}, True),
    ({"REMOTE_ADDR": "::1"}, True),
    ({"REMOTE_ADDR": "::ffff:127.0.0.1"}, True),
    ({"REMOTE_ADDR": "::ffff:192.0.2.10"}, False),
    ({"REMOTE_ADDR": ""}, True),  # a unix socket's peer
    ({"REMOTE_ADDR": "192.0.2.10"}, False),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}, True),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, False),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1, 203.0.113.9"}, False),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "junk"}, False),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": "for=127.0.0.1"}, False),
    # ProxyFix (PROXY_HOPS) replaced the address with the client's; the peer's is kept aside
    ({"REMOTE_ADDR": "127.0.0.1", "werkzeug.proxy_fix.orig": {"REMOTE_ADDR": "192.0.2.10"}},
     False),
])
def test_which_requests_come_from_this_machine(environ: dict[str, object], local: bool) -> None:
    assert from_this_machine(environ) is local


def test_bearer_token_must_match_exactly() -> None:
    assert bearer_matches(f"Bearer {TOKEN}", TOKEN)
    assert bearer_matches(f"bearer {TOKEN}", TOKEN)
    for header in (None, "", TOKEN, f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", "Bearer é"):
        assert not bearer_matches(header, TOKEN)


def workers_of(master: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            found.add(int(stat.parent.name))
    return found


def wait_until_marked_dead(metrics_dir: Path, pids: set[int]) -> None:
    deadline = time.monotonic() + 20
    while any((metrics_dir / f"gauge_livesum_{pid}.db").exists() for pid in pids):
        assert time.monotonic() < deadline, "the master did not mark the workers dead"
        time.sleep(0.1)


def test_workers_that_go_leave_their_counts_and_take_their_live_gauges(
        live: tuple[LiveServer, Path]) -> None:
    """Replaced on a reload (SIGHUP, which also reloads gunicorn.conf.py), or killed."""
    server, metrics_dir = live
    assert server.server.process is not None
    master = server.server.process.pid
    before = samples_of(server.server.get("/metrics").body.decode())
    old = workers_of(master)
    assert all((metrics_dir / f"gauge_livesum_{pid}.db").exists() for pid in old)
    os.kill(master, signal.SIGHUP)
    wait_until_marked_dead(metrics_dir, old)
    server.server.get("/healthz")
    (victim, *_) = workers_of(master) - old
    assert (metrics_dir / f"gauge_livesum_{victim}.db").exists()
    os.kill(victim, signal.SIGKILL)
    wait_until_marked_dead(metrics_dir, {victim})
    assert not (metrics_dir / f"gauge_livemax_{victim}.db").exists()
    assert all((metrics_dir / f"counter_{pid}.db").exists() for pid in old | {victim})
    after = samples_of(server.server.get("/metrics").body.decode())
    for name in ("ivr_webhooks_total", "ivr_transfers_total", "ivr_logins_total"):
        assert {key: v for key, v in after.items() if key[0] == name} == \
            {key: v for key, v in before.items() if key[0] == name}


def test_the_metrics_directory_is_emptied_at_start_and_a_temporary_one_removed_at_exit(
        tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    made = multiprocess.prepare(environ)
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(made) and made.is_dir()
    (made / "counter_1.db").write_bytes(b"")
    multiprocess.cleanup()
    assert not made.exists()

    given = tmp_path / "metrics"
    given.mkdir()
    (given / "counter_1.db").write_bytes(b"from an earlier run")
    (given / "notes.txt").write_text("not ours")
    assert multiprocess.prepare({"PROMETHEUS_MULTIPROC_DIR": str(given)}) == given
    assert sorted(p.name for p in given.iterdir()) == ["notes.txt"]
    multiprocess.cleanup()
    assert given.is_dir()  # the operator's own directory stays

    unusable = tmp_path / "a-file"
    unusable.write_text("")
    with pytest.raises(SystemExit, match=r"PROMETHEUS_MULTIPROC_DIR: .* cannot be used"):
        multiprocess.prepare({"PROMETHEUS_MULTIPROC_DIR": str(unusable)})


def test_without_a_directory_given_the_workers_still_sum(tmp_path: Path) -> None:
    """gunicorn makes one: the workers are in multi-process mode (whose page has none of a
    single process's own metrics, such as python_info)."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    with live_server(tmp_path) as server:
        busy_transfer(server, 1)
        body = server.server.get("/metrics").body.decode()
    assert value(samples_of(body), "ivr_transfers_total", team="cadastro", outcome="busy") == 1
    assert "python_info" not in body
