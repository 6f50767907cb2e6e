"""Drill: ``kill -9`` a whole gunicorn instance (master and workers at once, as a lost machine)
during calls. nginx sends its calls to the other instance; the instance is started again as
systemd's Restart=always does, and the drill notes how long it took to serve again.

    .venv/bin/python scripts/drills/kill_instance.py [--callers 24]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from scripts.cluster import healthy
from scripts.drills.common import Context, main


def kill_instance(context: Context) -> float:
    instance = context.cluster.instances[0]
    workers = len(instance.workers())
    instance.kill()
    killed = time.monotonic()
    # The fault is the kill; the instance's return (started again by the drill's supervisor)
    # is noted besides.
    while not healthy(instance.base + "/healthz") and time.monotonic() - killed < 60:
        time.sleep(0.1)
    context.notes.append(f"killed instance {instance.base} ({workers} workers); serving again "
                         f"after {time.monotonic() - killed:.1f} s")
    return killed


def steps_allowed(options: object) -> int:
    return int(getattr(options, "workers", 1))  # one step in flight per killed worker


if __name__ == "__main__":
    sys.exit(main("kill -9 a whole instance during calls", kill_instance, steps_allowed))
