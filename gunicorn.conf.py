"""gunicorn settings usable as they are in production (override with GUNICORN_* env vars)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Sync workers: every request is short and CPU-bound; nothing on the hot path waits on I/O.
worker_class = "sync"
# The provider gives up on a webhook after ~15 s; a worker stuck longer than that is recycled.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 15))
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 0))
max_requests_jitter = 50
# Each worker loads the app after forking so database connections are never shared.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
# Query strings carry only menu positions, never what a caller keyed: safe to log the path.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


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
        dummy_hash(int(os.environ.get("BCRYPT_ROUNDS") or 12))
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
