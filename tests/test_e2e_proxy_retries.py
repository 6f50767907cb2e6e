"""nginx with the repository's proxy settings, when an instance dies after it got a webhook and
before it answered (docs/rules.md#failed-webhooks): a webhook that only reads is answered by the
next instance; one that writes is not run twice, the next instance resumes the call instead; with
no instance at all the caller still hears an apology. The provider never gets a 5xx."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

from auth.models import LoginAttempt
from tests import nginx
from tests.conftest import AUTH_TOKEN, MARIA_CPF, call_form
from tests.e2e import live_server
from tests.server import ProviderClient, free_port
from tests.twiml import Doc

pytestmark = pytest.mark.skipif(not nginx.available(), reason="nginx is not installed")

SID = "CA" + "7" * 32
APOLOGY = "Desculpe, tivemos um problema."


class DyingInstance:
    """Takes each request whole, then drops the connection unanswered: a worker killed (or an
    instance lost) while it served the request."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        break
                    body += chunk
                self.paths.append(head.split(b" ")[1].decode())
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                      b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset

    def close(self) -> None:
        self.listener.close()


@contextmanager
def behind_nginx(tmp_path: Path, dying_first: bool = True) -> Iterator[tuple[
        ProviderClient, DyingInstance, object]]:
    dying = DyingInstance()
    proxy = nginx.Nginx(tmp_path / "nginx", [])
    with live_server(tmp_path, workers=1, environ={"PUBLIC_BASE_URL": proxy.base}) as live:
        # The dying instance is always asked first: the live one stands behind it.
        proxy.upstreams = [f"127.0.0.1:{dying.port} max_fails=0",
                           f"127.0.0.1:{live.server.port} backup"]
        proxy.start()
        try:
            yield ProviderClient(proxy.base, AUTH_TOKEN), dying, live
        finally:
            proxy.stop()
            dying.close()


def post(client: ProviderClient, url: str, digits: str | None = None) -> tuple[int, Doc]:
    form = call_form(SID, **({"Digits": digits} if digits is not None else {}))
    response = client.post(url.removeprefix(client.base), form)
    return response.status, Doc.parse(response.body)


def test_a_webhook_that_reads_is_answered_by_the_next_instance(tmp_path: Path) -> None:
    with behind_nginx(tmp_path) as (client, dying, _live):
        status, main = post(client, "/voice")
        assert status == 200 and "Olá" in main.spoken()
        status, submenu = post(client, main.next_url(), "2")
        assert status == 200 and APOLOGY not in submenu.spoken()
        assert dying.paths[0] == "/voice" and dying.paths[1].startswith("/voice/step?")


def test_a_webhook_that_writes_runs_once_and_the_call_resumes(tmp_path: Path) -> None:
    with behind_nginx(tmp_path) as (client, dying, live):
        _, doc = post(client, "/voice")
        for key in "223991":
            _, doc = post(client, doc.next_url(), key)
        _, doc = post(client, doc.next_url())  # the login: asks for the CPF
        status, doc = post(client, doc.next_url(), MARIA_CPF)
        assert status == 200
        # The dying instance took the CPF: it is not sent again, the caller is asked again.
        assert APOLOGY in doc.spoken() and "/voice/auth/login?" in doc.next_url()
        assert dying.paths[-1].startswith("/voice/auth/cpf?")
        with live.database.session() as session:  # type: ignore[attr-defined]
            assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_with_no_instance_the_caller_hears_an_apology_not_an_error(tmp_path: Path) -> None:
    dying = DyingInstance()
    proxy = nginx.Nginx(tmp_path / "nginx", [f"127.0.0.1:{dying.port}", f"127.0.0.1:{free_port()}"])
    proxy.start()
    try:
        client = ProviderClient(proxy.base, AUTH_TOKEN)
        for url in ("/voice", "/voice/auth/password?s=principal.0.0..principal"):
            status, doc = post(client, url, "1")
            assert status == 200
            assert doc.spoken().startswith(APOLOGY) and doc.verbs == ["Say", "Hangup"]
    finally:
        proxy.stop()
        dying.close()
