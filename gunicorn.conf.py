"""gunicorn settings usable as they are in production (override with GUNICORN_* env vars).

Every variable is parsed strictly, the app's too (``config.py``): a bad value stops the master
with one message naming it, before any worker starts.
"""

import multiprocessing
import os
from typing import Any

from config import ConfigError, Environment, ServerConfig, is_loopback

_env = Environment()
# Loopback unless told otherwise: production sets GUNICORN_BIND (e.g. 0.0.0.0:8000) on purpose.
bind = _env.address("GUNICORN_BIND", "127.0.0.1:8000")
workers = _env.integer("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1, minimum=1)
# Sync workers: every request is short and CPU-bound; nothing on the hot path waits on I/O.
worker_class = "sync"
# The provider gives up on a webhook after ~15 s; a worker stuck longer than that is recycled.
timeout = _env.integer("GUNICORN_TIMEOUT", 15, minimum=1)
graceful_timeout = 20
keepalive = 5
max_requests = _env.integer("GUNICORN_MAX_REQUESTS", 0, minimum=0)
max_requests_jitter = 50
# Each worker loads the app after forking so database connections are never shared.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
# The method and path only: action URLs' query strings carry a ticket number the caller keyed
# (in the call state) and recording URLs, which an access log must not keep.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): the
# instances of one machine would take it from each other, and nothing here uses it.
control_socket_disable = True
loglevel = _env.choice("GUNICORN_LOG_LEVEL", "info",
                       ("debug", "info", "warning", "error", "critical"))
# gunicorn takes X-Forwarded-Proto, SCRIPT_NAME or PATH_INFO from no one (it would from any
# peer of a unix socket whatever forwarded_allow_ips says): the URL the provider signed comes
# from PUBLIC_BASE_URL, or from the proxies the app is told to trust (PROXY_HOPS), nothing else.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
forwarder_headers = ""

_app_config = ServerConfig.read(_env)  # the workers read it again in create_app
if _app_config.log_format == "json":
    # gunicorn's own lines as JSON too, the app's beside them (telemetry.logs)
    from telemetry.logs import gunicorn_logconfig

    logconfig_dict = gunicorn_logconfig(loglevel, accesslog)


def _exposed(address: str) -> str | None:
    """Why gunicorn may not listen at ``address``. Every app of the provider account signs with
    the same token: judged against whatever Host a request names, a webhook captured from
    another of its apps would validate here."""
    if (_app_config.validate_signatures and _app_config.public_base_url is None
            and not is_loopback(address)):
        return (f"{address!r} listens beyond this machine: set PUBLIC_BASE_URL to the URL the "
                "provider calls (signatures are checked against it), or bind to 127.0.0.1")
    return None


if (exposed := _exposed(bind)) is not None:
    _env.problems.append(f"GUNICORN_BIND: {exposed}")
try:
    _env.check()
except ConfigError as error:
    # SystemExit passes gunicorn's handler, which would print a traceback for anything else
    raise SystemExit(f"Error: {error}") from None


def on_starting(server: Any) -> None:
    """Every bind gunicorn was given (this file's, ``-b``, ``GUNICORN_CMD_ARGS``) checked as
    ``GUNICORN_BIND`` is above, before it listens. Then the directory where the workers'
    metrics meet (``telemetry.multiprocess``): before anything here imports prometheus_client,
    which picks its multi-process mode on import, and the workers inherit it. Then
    ``SECRET_KEY``, required once an admin exists: one line here rather than a traceback from
    every worker."""
    for address in server.cfg.bind:
        if (exposed := _exposed(address)) is not None:
            raise SystemExit(f"Error: {exposed}")
    from telemetry import multiprocess

    multiprocess.prepare()
    from admin.setup import missing_secret_key
    from app import database_url

    if (missing := missing_secret_key(database_url(_app_config), _app_config.secret_key)):
        raise SystemExit(f"Error: {missing}")
    _load_for_workers()


def _load_for_workers() -> None:
    """What every worker would otherwise do for itself while it starts, done once here and
    inherited by each fork: the app's modules imported and the dummy bcrypt hash made. A worker
    started again after one died, or a whole instance after a crash, then takes about 0.2 s of
    CPU a worker instead of 1.5 s, from the same cores the callers on the line are using
    (docs/capacity.md). The app itself is still created in each worker, after the fork: no
    database connection is shared."""
    from app import import_modules
    from auth.passwords import dummy_hash

    import_modules()
    dummy_hash(_app_config.bcrypt_rounds)


def child_exit(server: object, worker: Any) -> None:
    """In the master, once a worker has gone (however it went): its live gauges stop counting."""
    from telemetry import multiprocess

    multiprocess.worker_gone(worker.pid)


def on_exit(server: object) -> None:
    from telemetry import multiprocess

    multiprocess.cleanup()


def post_worker_init(worker: object) -> None:
    """The dummy bcrypt hash ready before the first caller needs it (it makes an unknown CPF
    cost exactly what a wrong password costs; the master made it, see ``on_starting``), then
    everything loaded so far moved out of the garbage collector's sight: full collections stay
    short, and so do the slowest responses."""
    import gc

    try:
        from auth.passwords import dummy_hash
    except ImportError:  # another app served with this file (the benchmark's bare app)
        pass
    else:
        dummy_hash(_app_config.bcrypt_rounds)
    gc.collect()
    gc.freeze()
    # The call recorder's thread shares the GIL with the request thread: hand it back within
    # a millisecond rather than the default five, so a batch write never stalls a caller.
    import sys

    sys.setswitchinterval(0.001)
    # The call recorder's writer starts now: it writes what a killed worker left (its spool).
    app = getattr(worker, "wsgi", None)
    if app is not None and "call_recorder" in getattr(app, "extensions", {}):
        app.extensions["call_recorder"].start()


def worker_exit(server: object, worker: object) -> None:
    """A worker leaving (restart, deploy) writes the call records it still holds."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "call_recorder" in getattr(app, "extensions", {}):
        from app import shutdown

        shutdown(app)
