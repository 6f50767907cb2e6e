"""Drill: restart PostgreSQL (``pg_ctl restart -m fast``) during calls. The drill's own server
(``scripts/drills/common.py``), never the machine's: every pooled and held connection dies at
once. A step that met the restart apologises and goes on (or puts a person on), menu steps never
notice, and call records refused meanwhile are written when the server is back.

    .venv/bin/python scripts/drills/restart_postgres.py [--callers 24]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a file

from scripts.drills.common import Context, main


def restart_postgres(context: Context) -> None:
    context.postgres.restart()


if __name__ == "__main__":
    sys.exit(main("restart PostgreSQL during calls", restart_postgres))
