"""Drill: the database refuses connections for ``--outage`` seconds (30) during calls: the
drill's own PostgreSQL is stopped, then started again. Menu steps carry on (their state is in
the URL); a login or a ticket step hears an apology and, in hours, a person; call records are
kept and written once the database is back.

    .venv/bin/python scripts/drills/database_down.py [--outage 30] [--callers 24]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from scripts.drills.common import Context, main


def refuse_connections(context: Context) -> None:
    context.postgres.stop()
    time.sleep(context.options.outage)
    context.postgres.start()


if __name__ == "__main__":
    sys.exit(main("the database refuses connections", refuse_connections, outage=30))
