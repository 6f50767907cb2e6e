"""The call record steps a worker holds, also appended to a file of its own, so that a worker
killed outright loses none of them: the kernel keeps what a process wrote, and another worker
writes a dead worker's file to the database.

Each worker appends every step it queues (one ``write`` of one line, a few microseconds). Steps
reach the database in the order they were queued, so after each batch the worker appends how
many of the file's steps the database has (a mark), and empties the file once it has them all:
a dead worker's file is written from its last mark on, never twice. A worker holds an exclusive
``flock`` on its file for its life; the kernel releases it when the process dies, however it
dies, so a file whose lock can be taken belongs to a dead worker: its steps are written and the
file removed. The files live in a directory per database, so a test's or a drill's steps never
reach another database.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ivr.actions import Outcome
from ivr.calls.events import CallStarted, CallStepped, Step, StepTaken

log = logging.getLogger(__name__)

SUFFIX = ".steps"


def spool_directory(instance: Path, database_url: str) -> Path:
    """Where workers keep the steps not yet written: one directory per database, in the
    instance folder (shared by the instances of one machine)."""
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    return instance / "call-steps" / digest


class Spool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._fd: int | None = None
        self._path: Path | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._appended = 0  # steps in the file
        self._written = 0  # of those, in the database

    def append(self, step: Step) -> None:
        line = encode(step)
        with self._lock:
            fd = self._fd if self._pid == os.getpid() else self._open()
            if fd is None:
                return
            os.write(fd, line)
            self._appended += 1

    def written(self, count: int) -> None:
        """The ``count`` oldest steps not yet written are in the database: marked so, and the
        file emptied once all are."""
        with self._lock:
            self._written += count
            if self._fd is None or self._pid != os.getpid():
                return
            if self._written >= self._appended:
                os.ftruncate(self._fd, 0)
                self._appended = self._written = 0
            else:
                os.write(self._fd, json.dumps(["w", self._written]).encode() + b"\n")

    def close(self) -> None:
        """A worker leaving with everything written: its file goes."""
        with self._lock:
            if self._fd is None or self._pid != os.getpid():
                return
            if self._written >= self._appended and self._path is not None:
                self._path.unlink(missing_ok=True)
                try:
                    self.directory.rmdir()  # the last worker of this database leaving
                except OSError:
                    pass  # other workers' files
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int | None:
        """This process's own file (after a fork, a new one)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log.exception("no spool file in %s: a killed worker may lose its last steps",
                          self.directory)
            self._pid = os.getpid()  # not tried again at every step
            self._fd = None
            return None
        self._fd, self._path, self._pid = fd, path, os.getpid()
        self._appended = self._written = 0
        return fd

    def recover(self, write: Callable[[list[Step]], bool]) -> int:
        """Writes the files of dead workers (``write`` returns True once they are in the
        database) and removes them; the number of steps recovered."""
        recovered = 0
        try:
            paths = sorted(self.directory.glob("*" + SUFFIX))
        except OSError:
            return 0
        for path in paths:
            if path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue  # removed meanwhile
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # a live worker's
            try:
                with os.fdopen(fd, "rb", closefd=False) as handle:
                    steps = decode(handle.read())
                if steps and not write(steps):
                    continue  # the database is away: tried again later
                path.unlink(missing_ok=True)
                recovered += len(steps)
                if steps:
                    log.warning("wrote %d call record steps a dead worker left in %s",
                                len(steps), path.name)
            finally:
                os.close(fd)
        return recovered


def encode(step: Step) -> bytes:
    if isinstance(step, CallStarted):
        fields: list[object] = ["c", *_started(step)]
    elif isinstance(step, StepTaken):
        fields = ["t", *step[:2], step.at.isoformat(), *step[3:]]
    else:
        outcome = step.outcome
        fields = ["s", step.call_sid, list(step.path), step.node,
                  [outcome.kind, outcome.detail] if outcome else None, step.at.isoformat(),
                  _started(step.started) if step.started else None]
    return json.dumps(fields, separators=(",", ":")).encode() + b"\n"


def _started(started: CallStarted) -> list[object]:
    return [started.call_sid, started.from_number, started.to_number,
            started.at.isoformat() if started.at else None]


def decode(data: bytes) -> list[Step]:
    """The steps of a file the database does not have yet (those after the last mark); a line
    cut short by the kill, or not ours, is skipped."""
    steps: list[Step] = []
    written = 0
    for line in data.split(b"\n"):
        try:
            fields = json.loads(line)
            if fields[0] == "w":
                written = max(written, int(fields[1]))
                continue
            steps.append(_step(fields))
        except (ValueError, TypeError, IndexError, KeyError, AttributeError):
            continue
    return steps[written:]


def _step(fields: list[object]) -> Step:
    if fields[0] == "c":
        return _call_started(fields[1:])
    if fields[0] == "t":
        taken = StepTaken(*fields[1:])  # type: ignore[arg-type]
        if not (isinstance(taken.at, str) and isinstance(taken.seq, int)
                and isinstance(taken.key_count, int)):
            raise ValueError("not a step")
        return taken._replace(at=datetime.fromisoformat(taken.at))
    sid, path, node, outcome, at, started = fields[1:7]
    if not (isinstance(path, list) and isinstance(at, str)):
        raise ValueError("not a step")
    return CallStepped(
        str(sid), tuple(str(p) for p in path), str(node),
        Outcome(str(outcome[0]), str(outcome[1])) if isinstance(outcome, list) else None,
        datetime.fromisoformat(at),
        _call_started(started) if isinstance(started, list) else None)


def _call_started(fields: list[object]) -> CallStarted:
    sid, from_number, to_number, at = fields[:4]
    return CallStarted(str(sid), None if from_number is None else str(from_number),
                       None if to_number is None else str(to_number),
                       datetime.fromisoformat(str(at)) if at is not None else None)
