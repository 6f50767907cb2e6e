"""The load driver (scripts/load_calls.py): whole calls against a real gunicorn, each checked
against its script; and the checks themselves, which must catch a transcript gone wrong."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from auth.documents import is_valid_cpf
from scripts.load_calls import (
    LOGIN_PATH,
    MAX_LOCK_FAILURES,
    ContactPool,
    Expect,
    LoadData,
    Page,
    Report,
    RunOptions,
    _cpf_for,
    process_tree_cpu_seconds,
    run_load,
)
from tests.conftest import AUTH_TOKEN
from tests.e2e import live_server

MENU = (b'<Response><Gather action="/voice/step?s=x" numDigits="1" timeout="6">'
        b"<Say>Para cadastro, tecle 7.</Say></Gather>"
        b'<Redirect method="POST">/voice/step?s=x&amp;q=1</Redirect></Response>')


def test_whole_calls_through_a_live_server_go_as_scripted(tmp_path: Path) -> None:
    with live_server(tmp_path) as live:
        assert live.server.process is not None
        report = run_load(RunOptions(
            base_urls=[live.server.base], token=AUTH_TOKEN, rate=25, seconds=30, max_calls=60,
            pace=0, seed=3, hang_up_share=0.2, server_pids=[live.server.process.pid]))
    assert len(report.calls) == 60
    assert [f"{call.script}: {call.problem}" for call in report.failed] == []
    kinds = report.latencies()
    # every call was welcomed, ended by the status callback, and many logged in
    assert len(kinds["/voice"]) == len(kinds["/voice/status"]) == 60
    assert len(kinds[LOGIN_PATH]) >= 10
    assert "/voice/tickets/status" in kinds and "/voice/dialed" in kinds
    assert any(call.script.endswith("+hangup") for call in report.calls)
    cpu = report.cpu_ms_per_call()
    assert cpu is not None and cpu > 0
    assert "0 not as scripted" in report.text()


def test_a_call_that_hears_something_else_is_reported(tmp_path: Path) -> None:
    """Option 7's transfer says something else on this server than in the shipped menu the
    driver reads: every call that presses it is unexpected."""
    menus = tmp_path / "menus.yaml"
    shipped = (Path(__file__).resolve().parent.parent / "menus.yaml").read_text()
    reworded = shipped.replace("para a equipe de cadastro", "para o cadastro")
    assert reworded != shipped
    menus.write_text(reworded)
    with live_server(tmp_path, environ={"MENUS_FILE": str(menus)}) as live:
        report = run_load(RunOptions(
            base_urls=[live.server.base], token=AUTH_TOKEN, rate=25, seconds=30, max_calls=12,
            pace=0, seed=5, mix="no-login", hang_up_share=0))
    assert report.failed
    assert all("did not hear 'Vamos transferir você para a equipe de cadastro" in call.problem
               for call in report.failed)
    assert "UNEXPECTED" in report.text()


def test_expectations_judge_the_verb_the_path_and_the_words() -> None:
    page = Page.parse(MENU, heard_before="Obrigado, Maria.")
    assert page.verb == "Gather" and page.action == "/voice/step?s=x"
    assert page.after_silence == "/voice/step?s=x&q=1"
    assert Expect("Gather", "/voice/step", ("Obrigado, Maria.", "tecle 7")).problem(page) is None
    assert Expect("Dial").problem(page) == "expected <Dial>, got <Gather>"
    assert "expected a step at /voice/auth" in (Expect("Gather", "/voice/auth").problem(page) or "")
    assert Expect("Gather", heard=("Opção inválida",)).problem(page) == (
        "did not hear 'Opção inválida'")
    # With PUBLIC_BASE_URL the app writes whole URLs: the driver sends their path anywhere.
    public = Page.parse(MENU.replace(b'"/voice/step', b'"https://ivr.example.com/voice/step'))
    assert public.action == "/voice/step?s=x"
    failure = Page.parse(b"<Response><Say>Desculpe, tivemos um problema.</Say><Hangup/></Response>")
    assert Expect("Hangup").problem(failure) == "the app's failure answer"


def test_no_contact_is_ever_driven_to_its_lock() -> None:
    data = LoadData.demo()
    pool = ContactPool(data.contacts, random.Random(1))
    first = pool.for_failures(3)
    second = pool.for_failures(3)
    assert first is not None and second is not None and first != second
    assert pool.for_failures(1) is None  # both held
    pool.release(first, 3, logged_in=False)
    assert pool.for_failures(2) is None  # 3 + 2 would reach the lock
    again = pool.for_failures(MAX_LOCK_FAILURES - 3)
    assert again == first
    pool.release(first, 1, logged_in=True)  # a good login ends the run of failures
    assert pool.failures[first] == 0


@pytest.mark.parametrize("serial", [1, 2, 99, 123456])
def test_prepared_cpfs_are_valid(serial: int) -> None:
    assert is_valid_cpf(_cpf_for(serial))


class FailingOnce(BaseHTTPRequestHandler):
    """Between the driver and the server, as an instance that dies on a webhook: the first
    request to ``fail_path`` gets a 502, every other one is passed on as it came."""

    target = ""
    fail_path = ""
    failed: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path.split("?")[0] == self.fail_path and not self.failed:
            self.failed.append(self.path)
            status, answer = 502, b"<html>502 Bad Gateway</html>"
        else:
            request = urllib.request.Request(self.target + self.path, data=body, headers={
                "X-Twilio-Signature": self.headers["X-Twilio-Signature"],
                "Content-Type": self.headers["Content-Type"]})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, answer = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, answer = error.code, error.read()
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def failing_once(target: str, fail_path: str) -> Iterator[tuple[str, list[str]]]:
    failed: list[str] = []
    handler = type("Handler", (FailingOnce,), {"target": target, "fail_path": fail_path,
                                               "failed": failed})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", failed
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("fail_path", ["/voice/step", "/voice/auth/password"])
def test_a_failed_webhook_is_followed_by_the_fallback_url_and_the_call_goes_on(
        tmp_path: Path, fail_path: str) -> None:
    """As the provider does: the fallback URL after a 502; the line apologizes and asks again
    (the same menu, or the login from the CPF on), the caller answers again, and the call ends
    as its script says."""
    with live_server(tmp_path) as live, failing_once(live.server.base, fail_path) as (
            base, failed):
        report = run_load(RunOptions(
            base_urls=[base], public_url=live.server.base, token=AUTH_TOKEN, rate=5,
            seconds=10, max_calls=1, pace=0, seed=11, mix="login", hang_up_share=0))
    assert failed and failed[0].startswith(fail_path)
    assert [f"{call.script}: {call.problem}" for call in report.failed] == []
    (call,) = report.calls
    assert len(call.fallbacks) == 1 and call.fallbacks[0].startswith(f"{fail_path}: HTTP 502")
    assert call.resumed == 1
    assert "/voice/fallback" in report.latencies()
    assert "calls where the line apologized and went on: 1" in report.text()


def test_process_tree_cpu_counts_the_children_that_ended() -> None:
    """A parent that sleeps after a child burned CPU and ended: the tree's CPU is the child's
    (what a gunicorn master holds for its killed workers)."""
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}])\n"
        "print('child done', flush=True)\n"
        "time.sleep(30)")], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "child done"
        time.sleep(0.1)
        cpu = process_tree_cpu_seconds([parent.pid])
        assert cpu is not None and cpu >= 0.45
    finally:
        parent.kill()
        parent.wait()


def test_the_calls_held_are_those_of_the_second_half_of_the_arrivals_most_of_the_time() -> None:
    filling = list(range(0, 50, 5))  # the first half fills the line
    held = [50] * 9 + [10]  # one second in ten below: still held
    draining = [5] * 10  # after the arrivals
    report = Report([], 30, 20, filling + held + draining, [], None)
    assert report.held() == 50
    report = Report([], 30, 20, filling + [50] * 8 + [10, 10] + draining, [], None)
    assert report.held() == 10  # two seconds in ten: not held
