"""gunicorn settings usable as they are in production (override with GUNICORN_* env vars).

Every variable is parsed strictly, the app's too (``config.py``): a bad value stops the master
with one message naming it, before any worker starts.
"""

import multiprocessing
import os

from config import ConfigError, Environment, ServerConfig

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
# Query strings carry only menu positions, never what a caller keyed: safe to log the path.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = _env.choice("GUNICORN_LOG_LEVEL", "info",
                       ("debug", "info", "warning", "error", "critical"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

_app_config = ServerConfig.read(_env)  # the workers read it again in create_app
try:
    _env.check()
except ConfigError as error:
    # SystemExit passes gunicorn's handler, which would print a traceback for anything else
    raise SystemExit(f"Error: {error}") from None


def post_worker_init(worker: object) -> None:
    """Pay for the dummy bcrypt hash before the first caller does (it makes an unknown CPF cost
    exactly what a wrong password costs), then move everything loaded so far out of the
    garbage collector's sight: full collections stay short, and so do the slowest responses."""
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


def worker_exit(server: object, worker: object) -> None:
    """A worker leaving (restart, deploy) writes the call records it still holds."""
    app = getattr(worker, "wsgi", None)
    if app is not None and "call_recorder" in getattr(app, "extensions", {}):
        from app import shutdown

        shutdown(app)
