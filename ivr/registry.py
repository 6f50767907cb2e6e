"""The menu being served, reloaded from disk when the file changes.

A watcher thread in each process looks at the file once per interval (one ``stat``: mtime,
size, inode) and parses a changed file there, outside request handling: an edit reaches every worker
within about an interval, and no request waits on parsing. A bad edit is refused: its problems
are logged as ``FILE:LINE: message`` and the last good menu keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ivr.menu import Menu, MenuError, load_menu
from telemetry.metrics import menu_loaded

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.01  # seconds: a watcher never spins
# An editor that rewrites the file in place leaves it empty or half written for a moment: a file
# that fails to load is looked at again after this long, and judged only if it stayed the same.
SETTLE_SECONDS = 0.05


@dataclass(frozen=True)
class RefusedEdit:
    problems: tuple[str, ...]
    at: datetime
    fingerprint: tuple[int, ...]


class MenuRegistry:
    def __init__(self, path: Path, check_interval: float = 1.0) -> None:
        self.path = path
        self.check_interval = max(check_interval, MIN_INTERVAL)
        self._lock = threading.Lock()
        # A bad file at start-up is fatal: there is no good menu to fall back on.
        self._menu: Menu = load_menu(path)
        menu_loaded(self._menu.version)
        self._fingerprint = self._stat()
        self.loaded_at = datetime.now(UTC)
        self.refused: RefusedEdit | None = None
        self._watcher_pid = 0
        self._closed = threading.Event()

    def current(self) -> Menu:
        if self._watcher_pid != os.getpid():
            self._start_watcher()  # first use in this process (gunicorn forks after import)
        return self._menu

    def close(self) -> None:
        self._closed.set()

    def _start_watcher(self) -> None:
        with self._lock:
            if self._watcher_pid == os.getpid():
                return
            self._watcher_pid = os.getpid()
        # The thread holds the registry weakly: an app dropped without close() stops it too.
        threading.Thread(target=_watch, args=(weakref.ref(self), self._closed),
                         name="menu-watcher", daemon=True).start()

    def _stat(self) -> tuple[int, ...]:
        # The inode and ctime too: a copy that keeps the size and mtime (rsync -a, cp -p) is
        # still a new file.
        try:
            st = os.stat(self.path)
        except OSError:
            return (0, 0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)

    def check(self) -> None:
        """Load the file if it changed since it was last loaded or refused."""
        fingerprint = self._stat()
        if fingerprint == self._fingerprint:
            return
        if self.refused is not None and self.refused.fingerprint == fingerprint:
            return
        try:
            menu = load_menu(self.path)
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, keep the good menu
            time.sleep(SETTLE_SECONDS)
            if self._stat() != fingerprint:
                return  # still being written: judged at the next check
            problems = exc.problems if isinstance(exc, MenuError) else [
                f"{self.path}:1: cannot be loaded: {exc}"]
            self.refused = RefusedEdit(
                problems=tuple(str(p) for p in problems),
                at=datetime.now(UTC),
                fingerprint=fingerprint,
            )
            for problem in problems:
                log.error("menu edit refused, still serving %s: %s", self._menu.version, problem)
            return
        if self._stat() != fingerprint:
            return  # changed while it was read: what was read may be half of it
        menu_loaded(menu.version, replaced=self._menu.version)
        self._menu = menu
        self._fingerprint = fingerprint
        self.loaded_at = datetime.now(UTC)
        self.refused = None
        log.info("menu reloaded: version %s from %s", menu.version, self.path)

    def status(self) -> dict[str, object]:
        menu = self.current()
        return {
            "version": menu.version,
            "file": self.path.name,
            "loaded_at": self.loaded_at.isoformat(),
            "refused_edit": None if self.refused is None else {
                "at": self.refused.at.isoformat(),
                "problems": list(self.refused.problems),
            },
        }


def _watch(registry_ref: weakref.ref[MenuRegistry], closed: threading.Event) -> None:
    registry = registry_ref()
    while registry is not None:
        interval = registry.check_interval
        del registry  # not held while asleep
        if closed.wait(interval):
            return
        registry = registry_ref()
        if registry is not None:
            try:
                registry.check()
            except Exception:  # a watcher that dies would freeze the menu: log and go on
                log.exception("menu check failed")
