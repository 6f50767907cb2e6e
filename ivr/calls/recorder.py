"""Writes call records off the hot path, each step as soon as its response is sent.

A webhook handler only appends its step to an in-process queue; the worker writes what is
queued in the gap after the response has gone out (``ivr.respond``), before it takes the next
request. So no caller waits on the database, and a worker killed outright loses at most the
step in flight (``docs/rules.md#call-records``): the one whose response was sent but not yet
written. A batch that cannot be written (the database down or restarting) is kept and tried
again every ``RETRY_SECONDS`` by a background thread, which also writes anything a worker left
queued; steps kept longer than ``GIVE_UP_SECONDS`` are dropped, and logged.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from database.session import Database
from ivr.calls.events import Step
from ivr.calls.store import write_steps

log = logging.getLogger(__name__)

MAX_BATCH = 500  # rows per write
RETRY_SECONDS = 1.0
IDLE_SECONDS = 0.5  # how often the background thread looks for steps left queued
GIVE_UP_SECONDS = 600.0
MAX_KEPT = 100_000  # steps kept while the database is away (a few MB)


class CallRecorder:
    def __init__(self, database: Database, *, background: bool = True) -> None:
        """``background=False``: no thread, so steps are written only by ``flush()`` (and after
        responses); what a test reads then never races a write."""
        self.database = database
        self._background = background
        self._queue: queue.SimpleQueue[Step] = queue.SimpleQueue()
        self._kept: list[Step] = []  # failed to write, oldest first
        self._jobs: list[Callable[[], None]] = []  # writes to try again after the steps
        self._failing_since: float | None = None
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()
        self._closed = False

    # -- hot path -------------------------------------------------------------------------

    def record(self, event: Step) -> None:
        if self._background:
            self._ensure_thread()
        self._queue.put(event)

    def flush_is_due(self) -> bool:
        """Something to write in the gap after this response (unless the database is failing
        and its next try is not due: a worker does not pay a failed connect per request)."""
        return not self._queue.empty() and time.monotonic() >= self._retry_at

    def flush_after_response(self) -> None:
        """``flush`` for the gap after a response: skipped if another thread of this worker is
        writing (it, or the next response, takes what is queued)."""
        self.flush(wait=False)

    def retry_later(self, job: Callable[[], None]) -> None:
        """Run ``job`` (a write that raised for want of the database) after the steps held
        now, again at every try until it succeeds (a status callback's completion)."""
        with self._flush_lock:
            self._jobs.append(job)
            self._retry_at = self._retry_at or time.monotonic() + RETRY_SECONDS

    # -- writer ---------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # gunicorn forks after the app is built: one thread per worker, started lazily.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = queue.SimpleQueue()
            self._kept = []
            self._jobs = []
            self._thread = threading.Thread(target=self._run, name="call-recorder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            time.sleep(IDLE_SECONDS)
            pending = self._kept or self._jobs or not self._queue.empty()
            if pending and time.monotonic() >= self._retry_at:
                try:
                    self.flush(wait=False)
                except Exception:  # noqa: BLE001 - interpreter shutting down
                    return

    def close(self) -> None:
        """Write what is queued and stop writing (a worker shutting down, a test ending)."""
        self.flush()
        self._closed = True

    def flush(self, wait: bool = True) -> None:
        """Write whatever this worker holds now (status callback, tests, shutdown)."""
        if not self._flush_lock.acquire(blocking=wait):
            return
        try:
            if self._closed:
                return  # close() wrote everything; this database may no longer be ours
            batch = self._kept
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._kept = []
            for start in range(0, len(batch), MAX_BATCH):
                if not write_steps(self.database, batch[start:start + MAX_BATCH]):
                    self._keep(batch[start:])
                    return
            while self._jobs:
                try:
                    self._jobs[0]()
                except Exception as error:  # noqa: BLE001 - kept, tried again, logged
                    log.warning("a write kept for later failed again: %s", type(error).__name__)
                    self._keep([])
                    return
                self._jobs.pop(0)
            self._failing_since = None
            self._retry_at = 0.0
        finally:
            self._flush_lock.release()

    def _keep(self, unwritten: list[Step]) -> None:
        now = time.monotonic()
        self._failing_since = self._failing_since or now
        self._retry_at = now + RETRY_SECONDS
        if now - self._failing_since > GIVE_UP_SECONDS:
            log.error("dropped %d call record steps and %d other writes: the database refused "
                      "them for %.0f s", len(unwritten), len(self._jobs),
                      now - self._failing_since)
            self._failing_since = None
            self._jobs = []
            return
        if len(unwritten) > MAX_KEPT:
            log.error("dropped the %d oldest call record steps kept while the database is away",
                      len(unwritten) - MAX_KEPT)
            unwritten = unwritten[-MAX_KEPT:]
        self._kept = unwritten
