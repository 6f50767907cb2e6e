"""Password checks limited to PASSWORD_CHECK_SLOTS at a time across processes
(auth/check_slots.py): a check waits while every slot is held, and a worker killed while it
held one gives it back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from auth import passwords
from auth.check_slots import CheckSlots
from auth.passwords import hash_password, password_matches

ROOT = Path(__file__).resolve().parent.parent
HOLDER = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from auth.check_slots import CheckSlots\n"
    "held = CheckSlots(Path(sys.argv[1]), int(sys.argv[2])).held()\n"
    "held.__enter__()\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[3]))\n")


@contextmanager
def holder(directory: Path, count: int, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another worker holding a slot for ``seconds`` (then it exits, which frees it)."""
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(directory), str(count),
                                str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()


def seconds_to_enter(slots: CheckSlots) -> float:
    started = time.monotonic()
    with slots.held():
        return time.monotonic() - started


def test_a_check_waits_while_the_only_slot_is_held(tmp_path: Path) -> None:
    with holder(tmp_path, 1, 0.6):
        assert seconds_to_enter(CheckSlots(tmp_path, 1)) >= 0.4


def test_with_two_slots_a_second_check_runs_beside_the_first(tmp_path: Path) -> None:
    with holder(tmp_path, 2, 5):
        assert seconds_to_enter(CheckSlots(tmp_path, 2)) < 0.3


def test_a_killed_worker_gives_its_slot_back(tmp_path: Path) -> None:
    with holder(tmp_path, 1, 60) as process:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert seconds_to_enter(CheckSlots(tmp_path, 1)) < 0.3


def test_password_checks_run_inside_a_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    entered: list[int] = []

    class Counting(CheckSlots):
        @contextmanager
        def held(self) -> Iterator[None]:
            with super().held():
                entered.append(1)
                yield

    stored = hash_password("482913", 4)
    monkeypatch.setattr(passwords, "_slots", None)
    passwords.limit_checks(Counting(tmp_path, 1))
    assert password_matches("482913", stored, rounds=4)
    assert not password_matches("111111", None, rounds=4)  # an unknown CPF: the dummy check
    assert entered == [1, 1]
