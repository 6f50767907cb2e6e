"""The production layout on one machine (``make cluster``): nginx with the repository's proxy
settings (``deploy/nginx/ivr-proxy.conf``) on 127.0.0.1:$PORT (8080) in front of $INSTANCES (2)
gunicorn instances, each started with the command and environment of
``deploy/systemd/ivr@.service``, all on the PostgreSQL database of DATABASE_URL.

Runs in the foreground; an instance that dies is started again (as the unit's Restart=always
does); SIGTERM or Ctrl-C stops everything it started. The tests and the fault drills
(``scripts/drills/``) start the same layout through ``Cluster``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PROXY_CONF = ROOT / "deploy" / "nginx" / "ivr-proxy.conf"
UNIT = ROOT / "deploy" / "systemd" / "ivr@.service"
INSTALLED_AT = "/opt/ivr"  # where the unit expects the repository


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str, timeout: float = 1) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def unit_service(port: int) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart and Environment for instance ``port``, pointed at this checkout."""
    command: list[str] = []
    environment: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        key, _, value = line.partition("=")
        value = value.replace("%i", str(port)).replace(INSTALLED_AT, str(ROOT))
        if key == "ExecStart":
            command = shlex.split(value)
        elif key == "Environment":
            for item in shlex.split(value):
                name, _, setting = item.partition("=")
                environment[name] = setting
    if not command:
        raise RuntimeError(f"{UNIT}: no ExecStart")
    return command, environment


class Instance:
    """One gunicorn instance, as the systemd unit starts it."""

    def __init__(self, port: int, environment: dict[str, str], log: Path) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        command, unit_env = unit_service(port)
        self.command = command
        self.environment = {**os.environ, **environment, **unit_env, "PYTHONPATH": str(ROOT)}
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.environment,
                                            stdout=log, stderr=subprocess.STDOUT)

    def wait_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"instance {self.port} exited with "
                                   f"{self.process.returncode}; log in {self.log_path}")
            if healthy(self.base + "/healthz"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"instance {self.port} not healthy in {seconds:.0f} s")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def workers(self) -> list[int]:
        """The master's worker processes."""
        if not self.running():
            return []
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]

    def kill(self) -> None:
        """The whole instance at once, as a machine or container dies: master and workers."""
        pids = self.workers()
        if self.process is not None:
            pids.append(self.process.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=25)
        except subprocess.TimeoutExpired:
            self.kill()


class Nginx:
    """Debian's nginx with the repository's proxy settings, on ``host`` (127.0.0.1, or
    another of this machine's addresses to be reached from beyond loopback):``port``."""

    def __init__(self, work: Path, upstreams: list[str], port: int | None = None,
                 host: str = "127.0.0.1") -> None:
        self.work = work
        self.port = port or free_port()
        self.host = host
        self.base = f"http://{host}:{self.port}"
        self.upstreams = upstreams
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        # max_fails as in the site file (an entry may give its own): a dead instance is
        # skipped for a while, not retried on every request.
        servers = "\n".join(
            f"        server {upstream};" if " " in upstream else
            f"        server {upstream} max_fails=3 fail_timeout=5s;"
            for upstream in self.upstreams)
        work = self.work
        return f"""
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log error;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream ivr {{
{servers}
        keepalive 16;
    }}
    server {{
        listen {self.host}:{self.port};
        include {PROXY_CONF};
    }}
}}
"""

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.work.chmod(0o777)  # nginx's workers may run as nobody
        conf = self.work / "nginx.conf"
        conf.write_text(self.config())
        self.process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(self.work)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited: " + (self.work / "error.log").read_text())
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen in 10 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Cluster:
    """nginx in front of ``instances`` gunicorn instances sharing one database."""

    def __init__(self, work: Path, database_url: str, instances: int = 2, port: int | None = None,
                 environment: dict[str, str] | None = None) -> None:
        self.work = work
        self.nginx = Nginx(work / "nginx", [], port)
        self.base = self.nginx.base
        env = {"DATABASE_URL": database_url, "PUBLIC_BASE_URL": self.base,
               "GUNICORN_ACCESS_LOG": "", **(environment or {})}
        self.instances = [Instance(free_port(), env, work / f"instance-{n + 1}.log")
                          for n in range(instances)]
        self.nginx.upstreams = [f"127.0.0.1:{one.port}" for one in self.instances]

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        try:
            for instance in self.instances:
                instance.start()
            for instance in self.instances:
                instance.wait_healthy()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise

    def restart_dead(self) -> list[Instance]:
        """Start again every instance that died (the unit's Restart=always)."""
        dead = [one for one in self.instances if one.process is not None and not one.running()]
        for instance in dead:
            instance.start()
        return dead

    def stop(self) -> None:
        self.nginx.stop()
        for instance in self.instances:
            instance.stop()

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def main() -> int:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("make cluster needs DATABASE_URL=postgresql+psycopg://USER@HOST/DB: the instances "
              "share one PostgreSQL database", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from database.migrate import upgrade

    upgrade(url)
    port = int(os.environ.get("PORT") or 8080)
    count = int(os.environ.get("INSTANCES") or 2)
    work = Path(tempfile.mkdtemp(prefix="ivr-cluster-"))
    cluster = Cluster(work, url, count, port,
                      {"PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or
                       f"http://127.0.0.1:{port}"})
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cluster.start()
    print(f"nginx on {cluster.base} in front of "
          + ", ".join(one.base for one in cluster.instances)
          + f"; logs in {work}; Ctrl-C stops everything", flush=True)
    for instance in cluster.instances:
        assert instance.process is not None
        print(f"instance {instance.base} pid {instance.process.pid}", flush=True)
    try:
        while not stopping:
            for instance in cluster.restart_dead():
                assert instance.process is not None
                print(f"instance {instance.base} died: started again, pid "
                      f"{instance.process.pid}", flush=True)
            time.sleep(0.2)
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("cluster stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
