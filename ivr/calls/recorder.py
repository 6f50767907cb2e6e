"""Writes call records off the hot path.

Webhook handlers note their step; once the response has been sent, it goes to the worker's
spool file (``ivr.calls.spool``) and to an in-process queue. A worker killed outright loses no
step it answered (another worker writes its spool), and the step of a request it was killed in
is not kept: the proxy's second try records it once, elsewhere. Busy workers write the queue in
small batches in the gap after a response is sent; a background thread writes what a quiet
worker leaves queued, writes dead workers' spool files, and tries again what the database
refused (down or restarting): those steps are kept, in memory and in the spool, until it takes
them, or dropped (logged) after ``GIVE_UP_SECONDS``.
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
from ivr.calls.spool import Spool
from ivr.calls.store import write_steps
from telemetry.metrics import CALL_RECORDS_DROPPED, CALL_RECORDS_QUEUED

log = logging.getLogger(__name__)

# Busy workers write small batches in the gap after sending a response, so no second thread
# competes with the caller's request for the CPU; the background thread writes what a quiet
# worker leaves queued. 32 calls rows: the worker pauses about half as long as with 64 (the next
# callers' tail latency) at no measurable cost in throughput; 16 was no better. A step that
# moves the call queues two events (its calls row and its call_steps row): 64 events keep a
# batch to about 32 steps (at 32 events, writing twice as often cost 60 to 100 µs of worker
# CPU a step in scripts/bench.py's option scenario).
INLINE_BATCH = 64
FLUSH_SECONDS = 0.5
MAX_BATCH = 500
RETRY_SECONDS = 1.0
RECOVER_SECONDS = 5.0  # how often dead workers' spool files are looked for
GIVE_UP_SECONDS = 600.0
MAX_KEPT = 100_000  # steps kept while the database is away (a few MB)


class CallRecorder:
    def __init__(self, database: Database, *, background: bool = True,
                 spool: Spool | None = None) -> None:
        """``background=False``: no writer thread, so steps are written only by ``flush()``
        (and by busy workers after a response); what a test reads then never races a write.
        ``spool``: where each step also goes, so that a killed worker loses none."""
        self.database = database
        self.spool = spool
        self._background = background
        self._queue: queue.SimpleQueue[Step] = queue.SimpleQueue()
        self._answering: list[Step] = []  # noted by the request being answered
        self._kept: list[Step] = []  # refused by the database, oldest first
        self._jobs: list[Callable[[], None]] = []  # writes to try again after the steps
        self._failing_since: float | None = None
        self._retry_at = 0.0
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()
        self._closed = False

    # -- hot path -------------------------------------------------------------------------

    def record(self, event: Step) -> None:
        """Note a step of the request being answered; ``answered()`` keeps it."""
        if self._background:
            self._ensure_thread()
        self._answering.append(event)

    def answered(self) -> None:
        """The response has been sent: its steps to the spool and the queue, and a batch
        written in the gap before the next request when enough is queued (unless the database
        is failing and its next try is not due)."""
        self._take_answered()
        if self._queue.qsize() >= INLINE_BATCH and time.monotonic() >= self._retry_at:
            self.flush(wait=False)

    def _take_answered(self) -> None:
        answering, self._answering = self._answering, []
        for event in answering:
            if self.spool is not None:
                self.spool.append(event)
            self._queue.put(event)
        if answering:
            CALL_RECORDS_QUEUED.inc(len(answering))

    def retry_later(self, job: Callable[[], None]) -> None:
        """Run ``job`` (a write that raised for want of the database) after the steps held
        now, again at every try until it succeeds (a status callback's completion)."""
        with self._flush_lock:
            self._jobs.append(job)
            self._retry_at = self._retry_at or time.monotonic() + RETRY_SECONDS

    # -- writer ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer now (a worker starting), rather than at the first step: dead
        workers' spool files are written without waiting for a call."""
        if self._background:
            self._ensure_thread()

    def _ensure_thread(self) -> None:
        # gunicorn forks after the app is built: one writer per worker, started lazily.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = queue.SimpleQueue()
            self._answering = []
            self._kept = []
            self._jobs = []
            self._thread = threading.Thread(target=self._run, name="call-recorder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        recovered_at = 0.0
        while not self._closed:
            try:
                if time.monotonic() - recovered_at >= RECOVER_SECONDS:
                    recovered_at = time.monotonic()
                    self.recover()
                time.sleep(FLUSH_SECONDS)
                pending = self._kept or self._jobs or not self._queue.empty()
                if pending and time.monotonic() >= self._retry_at:
                    self.flush(wait=False, answering=False)
            except Exception:  # noqa: BLE001 - interpreter shutting down
                return

    def recover(self) -> int:
        """Write what dead workers left in their spool files; the number of steps."""
        if self.spool is None or self._closed:
            return 0
        return self.spool.recover(self._write_all)

    def _write_all(self, steps: list[Step]) -> bool:
        return all(write_steps(self.database, steps[start:start + MAX_BATCH])
                   for start in range(0, len(steps), MAX_BATCH))

    def close(self) -> None:
        """Write what is queued and stop writing (a worker shutting down, a test ending)."""
        self.flush()
        self._closed = True
        if self.spool is not None:
            self.spool.close()

    def flush(self, wait: bool = True, answering: bool = True) -> None:
        """Write whatever this worker holds now (status callback, tests, shutdown); with
        ``answering=False`` (the writer thread), not the steps of a request still being
        answered."""
        if answering:
            self._take_answered()
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
                self._spooled(len(batch[start:start + MAX_BATCH]))
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

    def _spooled(self, count: int) -> None:
        """``count`` steps written or dropped: out of the spool and the backlog."""
        if self.spool is not None and count:
            self.spool.written(count)
        if count:
            CALL_RECORDS_QUEUED.dec(count)

    def _keep(self, unwritten: list[Step]) -> None:
        now = time.monotonic()
        self._failing_since = self._failing_since or now
        self._retry_at = now + RETRY_SECONDS
        if now - self._failing_since > GIVE_UP_SECONDS:
            log.error("dropped %d call record steps and %d other writes: the database refused "
                      "them for %.0f s", len(unwritten), len(self._jobs),
                      now - self._failing_since)
            self._spooled(len(unwritten))
            CALL_RECORDS_DROPPED.inc(len(unwritten))
            self._failing_since = None
            self._jobs = []
            return
        if len(unwritten) > MAX_KEPT:
            log.error("dropped the %d oldest call record steps kept while the database is away",
                      len(unwritten) - MAX_KEPT)
            self._spooled(len(unwritten) - MAX_KEPT)
            CALL_RECORDS_DROPPED.inc(len(unwritten) - MAX_KEPT)
            unwritten = unwritten[-MAX_KEPT:]
        self._kept = unwritten
