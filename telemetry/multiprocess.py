"""prometheus_client's multi-process mode under gunicorn: each worker writes its values to files
in one directory, which ``/metrics`` reads and sums.

``gunicorn.conf.py`` calls ``prepare`` in the master before any worker exists (the variable
must be set before a worker imports prometheus_client), ``worker_gone`` as each worker exits,
and ``cleanup`` when the master stops. One directory per instance: a start empties it. What
``prepare`` did is kept here, not in gunicorn.conf.py, whose namespace a reload (SIGHUP)
replaces.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import MutableMapping
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

_prepared: tuple[Path, bool] | None = None  # the directory, and whether prepare() made it


def prepare(environ: MutableMapping[str, str] = os.environ) -> Path:
    """The directory (the variable's, or a new temporary one set into ``environ``), emptied
    of an earlier run's files."""
    global _prepared
    given = (environ.get(VARIABLE) or "").strip()
    if given:
        directory = Path(given)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.db"):
                stale.unlink()
        except OSError as error:
            raise SystemExit(f"Error: {VARIABLE}: {given!r} cannot be used: {error}") from None
        _prepared = (directory, False)
    else:
        directory = Path(tempfile.mkdtemp(prefix="ivr-metrics-"))
        environ[VARIABLE] = str(directory)
        _prepared = (directory, True)
    return directory


def worker_gone(pid: int) -> None:
    """A worker exited: its live gauges stop counting (its counters stay in the sums)."""
    if _prepared is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, str(_prepared[0]))


def cleanup() -> None:
    """The master is leaving: a directory ``prepare`` made goes with it."""
    global _prepared
    if _prepared is not None and _prepared[1]:
        shutil.rmtree(_prepared[0], ignore_errors=True)
    _prepared = None
