"""A real gunicorn process for end-to-end tests, and an HTTP client that signs like the provider."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.twiml import Doc

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpResponse:
    status: int
    body: bytes
    content_type: str

    @property
    def doc(self) -> Doc:
        return Doc.parse(self.body)


class Gunicorn:
    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "GUNICORN_ACCESS_LOG": "", **env,
                    "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers),
                    "PYTHONPATH": str(ROOT)}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(env.get("E2E_LOG", "/dev/null"))

    def start(self) -> None:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.close()
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; "
                                   f"log in {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def get(self, path: str) -> HttpResponse:
        return _send(urllib.request.Request(self.base + path))


class ProviderClient:
    """Sends webhooks to ``base`` signed for ``public_base`` (the URL the provider knows)."""

    def __init__(self, base: str, token: str, public_base: str | None = None) -> None:
        self.base = base
        self.public_base = public_base or base
        self.validator = RequestValidator(token)

    def post(self, path: str, form: dict[str, str], signature: str | None = None,
             headers: dict[str, str] | None = None, timeout: float = 15) -> HttpResponse:
        if signature is None:
            signature = self.validator.compute_signature(self.public_base + path, form)
        request = urllib.request.Request(
            self.base + path,
            data=urlencode(form).encode(),
            headers={"X-Twilio-Signature": signature,
                     "Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            method="POST",
        )
        return _send(request, timeout)


def _send(request: urllib.request.Request, timeout: float = 15) -> HttpResponse:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpResponse(response.status, response.read(),
                                response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, error.read(), error.headers.get("Content-Type", ""))
