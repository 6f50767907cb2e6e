"""What an admin reads when running the commands of the README: the migrations it ran, not the
libraries' start-up chatter."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent


def test_db_upgrade_reports_its_migrations_without_alembic_plugin_lines(tmp_path: Path) -> None:
    database = tmp_path / "ivr.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("TEST_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "db", "upgrade"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Every migration, oldest first, up to Alembic's head: whatever the newest one is called.
    scripts = ScriptDirectory(str(ROOT / "migrations"))
    chain = [(script.down_revision or "", script.revision)
             for script in reversed(list(scripts.walk_revisions()))]
    assert chain[-1][1] == scripts.get_current_head()
    assert re.findall(r"Running upgrade (\S*) -> (\S+),", output) == chain, output
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (scripts.get_current_head(),)]
    assert "setup plugin" not in output
