"""prometheus_client's multi-process mode under gunicorn: each worker writes its values to files
in one directory, which ``/metrics`` reads and sums.

``gunicorn.conf.py`` calls ``prepare`` in the master before any worker exists (the variable
must be set before a worker imports prometheus_client), ``worker_gone`` as each worker exits,
and ``cleanup`` when the master stops. One directory per instance: a start empties it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare(environ: dict[str, str] | os._Environ[str] = os.environ) -> tuple[Path, bool]:
    """The directory (the variable's, or a new temporary one set into ``environ``), emptied
    of an earlier run's files; and whether it was made here (``cleanup`` removes it then)."""
    given = (environ.get(VARIABLE) or "").strip()
    if given:
        directory = Path(given)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            for stale in directory.glob("*.db"):
                stale.unlink()
        except OSError as error:
            raise SystemExit(f"Error: {VARIABLE}: {given!r} cannot be used: {error}") from None
        return directory, False
    directory = Path(tempfile.mkdtemp(prefix="ivr-metrics-"))
    environ[VARIABLE] = str(directory)
    return directory, True


def worker_gone(pid: int) -> None:
    """A worker exited: its live gauges stop counting (its counters stay in the sums)."""
    if os.environ.get(VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def cleanup(directory: Path, made_here: bool) -> None:
    if made_here:
        shutil.rmtree(directory, ignore_errors=True)
