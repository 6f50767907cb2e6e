"""A local stand-in for the provider's REST API: the real ``twilio.rest.Client`` talks to it over
HTTP (``TWILIO_API_URL``), and tests read what the client sent. Never the network."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "5" * 32
CALLS_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"


@dataclass(frozen=True)
class Sent:
    """One request the client made: path, Basic credentials and form fields (first values)."""

    path: str
    user: str
    password: str
    form: dict[str, str]
    sid: str


class ProviderApi:
    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[Sent] = []
        self.delay = delay  # seconds before answering, so concurrent jobs overlap
        self.fail_with = 0  # an HTTP status to answer instead of creating the call
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                user, _, password = base64.b64decode(
                    self.headers.get("Authorization", "Basic ").split(" ", 1)[1] or "Og==",
                ).decode().partition(":")
                form = {key: values[0] for key, values in parse_qs(body).items()}
                time.sleep(api.delay)
                if api.fail_with:
                    self._answer(api.fail_with, {"code": 20500, "message": "stand-in failure",
                                                 "status": api.fail_with})
                    return
                sid = "CA" + secrets.token_hex(16)
                with api._lock:
                    api.sent.append(Sent(self.path, user, password, form, sid))
                self._answer(201, {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued",
                                   "to": form.get("To"), "from": form.get("From"),
                                   "direction": "outbound-api", "api_version": "2010-04-01"})

            def _answer(self, status: int, payload: dict[str, object]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls(self) -> list[Sent]:
        with self._lock:
            return [sent for sent in self.sent if sent.path == CALLS_PATH]


@contextmanager
def provider_api(delay: float = 0.0) -> Iterator[ProviderApi]:
    api = ProviderApi(delay)
    thread = threading.Thread(target=api.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.server.shutdown()
        api.server.server_close()
        thread.join()
