"""The page-action streams one process is serving, per call, so one caller cannot hold its threads.

A stream holds a worker thread for as long as it is open (up to the whole call). A browser needs one, and
for a moment two (its reconnect arrives before the server has noticed the old connection is gone), so past
``MAX_STREAMS_PER_CALL`` the *oldest* stream of that call is told to stop: a reconnect is never refused, and
a caller who opens streams in a loop holds no more threads than that, each reconnect pushing out another.
"""

from __future__ import annotations

import threading

__all__ = ["MAX_STREAMS_PER_CALL", "OpenStreams"]

MAX_STREAMS_PER_CALL = 2


class OpenStreams:
    """The streams open in this process, per call id; each has an event set when it is to stop."""

    def __init__(self, limit: int = MAX_STREAMS_PER_CALL) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._open: dict[str, list[threading.Event]] = {}

    def enter(self, call_id: str) -> threading.Event:
        """Count a new stream of ``call_id``; the event it should stop on. Tells the oldest ones over the
        limit to stop."""
        stop = threading.Event()
        with self._lock:
            streams = self._open.setdefault(call_id, [])
            streams.append(stop)
            while len(streams) > self._limit:
                streams.pop(0).set()
        return stop

    def leave(self, call_id: str, stop: threading.Event) -> None:
        """The stream that ``enter`` gave ``stop`` has ended."""
        with self._lock:
            streams = self._open.get(call_id, [])
            if stop in streams:
                streams.remove(stop)
            if not streams:
                self._open.pop(call_id, None)

    def count(self, call_id: str) -> int:
        with self._lock:
            return len(self._open.get(call_id, ()))
