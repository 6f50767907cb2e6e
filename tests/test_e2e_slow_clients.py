"""Clients that trickle a request body hold a sync gunicorn worker each; behind nginx with the
repository's proxy settings they hold nothing of gunicorn's, and the provider's webhooks are
answered at once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests import nginx
from tests.conftest import AUTH_TOKEN, call_form
from tests.e2e import live_server
from tests.server import ProviderClient

pytestmark = pytest.mark.skipif(not nginx.available(), reason="nginx is not installed")

SID = "CA" + "5" * 32


@contextmanager
def trickling(port: int, clients: int) -> Iterator[None]:
    """``clients`` connections, each declaring a webhook-sized body and sending a byte every
    half second."""
    stop = threading.Event()
    sockets = []
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"POST /voice HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 400\r\n\r\n")
        sockets.append(sock)

    def drip() -> None:
        while not stop.wait(0.5):
            for sock in sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # cut off by the server: what it should do

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    time.sleep(0.3)  # every connection has been accepted and is trickling
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for sock in sockets:
            sock.close()


def answered_within(client: ProviderClient, seconds: float) -> bool:
    started = time.monotonic()
    try:
        response = client.post("/voice", call_form(SID), timeout=seconds)
    except (TimeoutError, OSError):
        return False
    return response.status == 200 and time.monotonic() - started < seconds


def test_trickling_clients_hold_no_worker_behind_nginx(tmp_path: Path) -> None:
    proxy = nginx.Nginx(tmp_path / "nginx", [])
    with live_server(tmp_path, workers=2, environ={"PUBLIC_BASE_URL": proxy.base}) as live:
        proxy.upstreams = [f"127.0.0.1:{live.server.port}"]
        proxy.start()
        try:
            through_nginx = ProviderClient(proxy.base, AUTH_TOKEN)
            direct = ProviderClient(live.server.base, AUTH_TOKEN, public_base=proxy.base)
            assert answered_within(through_nginx, 2)
            # The attack is real: two trickling clients hold both workers of a bare gunicorn.
            with trickling(live.server.port, clients=2):
                assert not answered_within(direct, 2)
            # Behind nginx, thirty of them change nothing for the provider.
            with trickling(proxy.port, clients=30):
                assert all(answered_within(through_nginx, 1) for _ in range(10))
        finally:
            proxy.stop()
