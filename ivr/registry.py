"""The menu being served, reloaded from disk when the file changes.

Each worker checks the file's mtime and size at most once per interval (one ``stat``), so an
edit reaches every worker within seconds and no request pays for parsing. A bad edit is refused:
its problems are logged as ``FILE:LINE: message`` and the last good menu keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ivr.menu import Menu, MenuError, load_menu

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefusedEdit:
    problems: tuple[str, ...]
    at: datetime
    fingerprint: tuple[int, int]


class MenuRegistry:
    def __init__(self, path: Path, check_interval: float = 1.0) -> None:
        self.path = path
        self.check_interval = check_interval
        self._lock = threading.Lock()
        # A bad file at start-up is fatal: there is no good menu to fall back on.
        self._menu: Menu = load_menu(path)
        self._fingerprint = self._stat()
        self._checked_at = time.monotonic()
        self.loaded_at = datetime.now(UTC)
        self.refused: RefusedEdit | None = None

    def current(self) -> Menu:
        if time.monotonic() - self._checked_at >= self.check_interval:
            self._maybe_reload()
        return self._menu

    def _stat(self) -> tuple[int, int]:
        try:
            st = os.stat(self.path)
        except OSError:
            return (0, 0)
        return (st.st_mtime_ns, st.st_size)

    def _maybe_reload(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread of this worker is already looking
        try:
            self._checked_at = time.monotonic()
            fingerprint = self._stat()
            if fingerprint == self._fingerprint:
                return
            if self.refused is not None and self.refused.fingerprint == fingerprint:
                return
            try:
                menu = load_menu(self.path)
            except Exception as exc:  # noqa: BLE001 - whatever is wrong, keep the good menu
                problems = exc.problems if isinstance(exc, MenuError) else [
                    f"{self.path}:1: cannot be loaded: {exc}"]
                self.refused = RefusedEdit(
                    problems=tuple(str(p) for p in problems),
                    at=datetime.now(UTC),
                    fingerprint=fingerprint,
                )
                for problem in problems:
                    log.error("menu edit refused, still serving %s: %s",
                              self._menu.version, problem)
                return
            self._menu = menu
            self._fingerprint = fingerprint
            self.loaded_at = datetime.now(UTC)
            self.refused = None
            log.info("menu reloaded: version %s from %s", menu.version, self.path)
        finally:
            self._lock.release()

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
