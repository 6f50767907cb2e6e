"""nginx from the system's package in front of gunicorn instances, with the repository's own
proxy settings (``deploy/nginx/ivr-proxy.conf``), for end-to-end tests."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.server import ROOT, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_CONF = ROOT / "deploy" / "nginx" / "ivr-proxy.conf"


def available() -> bool:
    return Path(NGINX).exists()


class Nginx:
    def __init__(self, work: Path, upstreams: list[str], host: str = "127.0.0.1") -> None:
        """``host``: the address nginx listens on (another of this machine's, to be reached
        from beyond loopback)."""
        self.work = work
        self.port = free_port()
        self.host = host
        self.base = f"http://{host}:{self.port}"
        self.upstreams = upstreams
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.work.chmod(0o777)  # nginx's workers may run as nobody
        servers = "\n".join(f"        server {upstream};" for upstream in self.upstreams)
        conf = self.work / "nginx.conf"
        conf.write_text(f"""
daemon off;
worker_processes 1;
pid {self.work}/nginx.pid;
error_log {self.work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {self.work}/body;
    proxy_temp_path {self.work}/proxy;
    fastcgi_temp_path {self.work}/fastcgi;
    uwsgi_temp_path {self.work}/uwsgi;
    scgi_temp_path {self.work}/scgi;
    upstream ivr {{
{servers}
    }}
    server {{
        listen {self.host}:{self.port};
        include {PROXY_CONF};
    }}
}}
""")
        self.process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.work)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited: " + (self.work / "error.log").read_text())
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # nginx answers; the app's health is the caller's business
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise RuntimeError("nginx did not answer in 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
