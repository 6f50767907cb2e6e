"""Writes call records off the hot path.

Webhook handlers only append to an in-process queue. Busy workers write it in small batches in
the gap after a response is sent; a background thread writes what a quiet worker leaves queued.
No caller waits on the database; in exchange a worker killed outright loses the steps it
queued in its last half second (``FLUSH_SECONDS``), more than the one step in flight that
``docs/rules.md#call-records`` allows.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

from database.session import Database
from ivr.calls.events import Step
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


class CallRecorder:
    def __init__(self, database: Database, *, background: bool = True) -> None:
        """``background=False``: no writer thread, so steps are written only by ``flush()``
        (and by busy workers after a response); what a test reads then never races a write."""
        self.database = database
        self._background = background
        self._queue: queue.SimpleQueue[Step] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._flush_lock = threading.Lock()
        self._in_hand: list[Step] = []  # taken off the queue by the writer thread, not written
        self._closed = False

    # -- hot path -------------------------------------------------------------------------

    def record(self, event: Step) -> None:
        if self._background:
            self._ensure_thread()
        self._queue.put(event)
        CALL_RECORDS_QUEUED.inc()

    def flush_is_due(self) -> bool:
        """Enough is queued to write in the gap after this response (see ``ivr.respond``)."""
        return self._queue.qsize() >= INLINE_BATCH

    # -- writer ---------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        # gunicorn forks after the app is built: one writer per worker, started lazily.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._queue = queue.SimpleQueue()
            self._in_hand = []
            self._thread = threading.Thread(target=self._run, name="call-recorder", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get()
            except Exception:  # noqa: BLE001 - interpreter shutting down
                return
            # Held where flush() and close() find it, in order before the queue.
            with self._flush_lock:
                self._in_hand.append(first)
            # Gather what arrives within the flush window, then write all of it, so the queue
            # cannot outgrow the writer however busy the worker is.
            time.sleep(FLUSH_SECONDS)
            if self._closed:
                return  # close() wrote everything; this database may no longer be ours
            self.flush()

    def close(self) -> None:
        """Write what is queued and stop writing (a worker shutting down, a test ending)."""
        with self._flush_lock:
            self._write_queued()
            self._closed = True

    def flush(self) -> None:
        """Write whatever this worker has queued now (status callback, tests, shutdown)."""
        with self._flush_lock:
            self._write_queued()

    def _write_queued(self) -> None:
        if self._closed:
            return
        batch, self._in_hand = self._in_hand, []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for start in range(0, len(batch), MAX_BATCH):
            part = batch[start:start + MAX_BATCH]
            if not write_steps(self.database, part):
                CALL_RECORDS_DROPPED.inc(len(part))
            CALL_RECORDS_QUEUED.dec(len(part))
