"""At most ``PASSWORD_CHECK_SLOTS`` password checks at a time on this machine, shared by every
gunicorn worker of every instance started from this checkout (docs/capacity.md).

A bcrypt check at cost 12 is a quarter of a second of one core. Let every sync worker run one
whenever its caller asks, and at busy times more checks than cores share the cores: each takes
several times its CPU, and the menu steps wait behind workers held by them. With one slot per
core, a check runs at full speed or waits its turn, and the workers beyond the slots stay free
for the menu steps. A slot is a lock file (``flock``) in the instance folder: the kernel
releases it when its worker dies, killed or not, so a crash never loses one. A worker that finds
every slot taken tries again every few milliseconds.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RETRY_SECONDS = 0.003


class CheckSlots:
    """``count`` lock files in ``directory``; opened in each process on its first check (the
    workers fork from a master that never checks)."""

    def __init__(self, directory: Path, count: int) -> None:
        self.directory = directory
        self.count = count
        self._files: list[int] = []
        self._pid = 0

    def _slots(self) -> list[int]:
        if self._pid != os.getpid():
            self.directory.mkdir(parents=True, exist_ok=True)
            self._files = [os.open(self.directory / f"slot-{n}", os.O_RDWR | os.O_CREAT, 0o600)
                           for n in range(self.count)]
            self._pid = os.getpid()
        return self._files

    @contextmanager
    def held(self) -> Iterator[None]:
        """One slot, for as long as the block runs; waits while every slot is taken."""
        slots = self._slots()
        first = os.getpid() % len(slots)  # the workers spread over the slots
        while True:
            for n in range(len(slots)):
                slot = slots[(first + n) % len(slots)]
                try:
                    fcntl.flock(slot, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(slot, fcntl.LOCK_UN)
                return
            time.sleep(RETRY_SECONDS)
