"""A worker's line to the call-record writer process: a Unix stream socket, never waited on.

Sending is one non-blocking ``send``. While the writer keeps up, the kernel's socket buffer
absorbs bursts; what it cannot take right away is kept and sent before the next event. A writer
that is gone, or too far behind, makes ``send`` give the lines back: the caller then writes
them itself, so nothing is lost and no caller ever waits for the writer.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger(__name__)

SOCKET_ENV = "IVR_CALL_WRITER_SOCKET"
MAX_UNSENT = 1 << 20  # about 5,000 events: a writer this far behind is treated as gone
RETRY_SECONDS = 1.0  # after a failed connect, the next attempt waits this long
CLOSE_SECONDS = 2.0  # what a leaving worker allows itself to hand over the rest


class WriterChannel:
    def __init__(self, path: str) -> None:
        self.path = path
        self._sock: socket.socket | None = None
        self._pid = 0
        self._unsent = b""  # starts at a line's start: see ``_sent``
        self._cut = 0  # bytes of that first line already sent
        self._retry_at = 0.0

    def send(self, line: bytes) -> list[bytes]:
        """Hand one event line to the writer. Returns the lines it did not take (this one, and
        any that were waiting when the writer went away): the caller writes those itself."""
        sock = self._connected()
        if sock is None:
            return [line]
        data = self._unsent + line if self._unsent else line
        try:
            sent = sock.send(data[self._cut:] if self._cut else data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._unsent = data
            return self._lost("the writer went away")
        self._sent(data, sent)
        if len(self._unsent) > MAX_UNSENT:
            return self._lost("the writer is too far behind")
        return []

    def close(self) -> None:
        """Hand over what is still unsent (briefly blocking: the worker is leaving), then close."""
        sock, self._sock = self._sock, None
        if sock is None or self._pid != os.getpid():
            return
        try:
            if self._unsent:
                sock.settimeout(CLOSE_SECONDS)
                sock.sendall(self._unsent[self._cut:])
                self._unsent, self._cut = b"", 0
        except OSError:
            log.warning("call-record writer: %d bytes not handed over at exit", len(self._unsent))
        finally:
            sock.close()

    # -- internals ------------------------------------------------------------------------

    def _connected(self) -> socket.socket | None:
        if self._pid != os.getpid():  # a forked worker never shares its parent's connection
            self._pid, self._sock, self._unsent, self._cut = os.getpid(), None, b"", 0
        if self._sock is not None:
            return self._sock
        now = time.monotonic()
        if now < self._retry_at:
            return None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
        except OSError as error:
            sock.close()
            self._retry_at = now + RETRY_SECONDS
            log.debug("call-record writer unavailable at %s: %s", self.path, error)
            return None
        sock.setblocking(False)
        self._sock = sock
        return sock

    def _sent(self, data: bytes, sent: int) -> None:
        """Keep what was not sent; ``_cut`` counts what of its first line already went."""
        sent += self._cut
        if sent >= len(data):
            self._unsent, self._cut = b"", 0
            return
        line_start = data.rfind(b"\n", 0, sent) + 1  # start of the line the cut fell in
        self._unsent, self._cut = data[line_start:], sent - line_start

    def _lost(self, why: str) -> list[bytes]:
        """Drop the connection and give back the whole lines the writer never received."""
        log.error("call-record writer: %s; this worker writes call records itself for now", why)
        # Whole lines, the cut one included: the writer discards a line it got only part of.
        lines = self._unsent.split(b"\n")
        self._unsent, self._cut = b"", 0
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._retry_at = time.monotonic() + RETRY_SECONDS
        return [line + b"\n" for line in lines if line]
