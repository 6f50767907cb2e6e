"""What an admin reads when running the commands of the README: the migrations it ran, not the
libraries' start-up chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_db_upgrade_reports_its_migrations_without_alembic_plugin_lines(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}"}
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Running upgrade 0004_pending_logins -> 0005_calls_outcome_unindexed" in output
    assert "setup plugin" not in output
