"""Drill: ``kill -9`` a gunicorn worker during calls, ``--kills`` times a second and a half apart
(gunicorn's master starts a new one each time). nginx hands the killed worker's webhook to the
other instance (or the call resumes, docs/rules.md#failed-webhooks); each kill may lose at most
the call record step in flight.

    .venv/bin/python scripts/drills/kill_worker.py [--callers 24] [--kills 3]
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from scripts.drills.common import Context, main


def kill_workers(context: Context) -> None:
    instance = context.cluster.instances[0]
    for n in range(context.options.kills):
        if n:
            time.sleep(1.5)
        workers = instance.workers()
        os.kill(workers[n % len(workers)], signal.SIGKILL)
    context.notes.append(f"killed {context.options.kills} workers of instance {instance.base}")


if __name__ == "__main__":
    sys.exit(main("kill -9 a worker during calls", kill_workers,
                  steps_allowed=lambda options: int(options.kills)))
