"""The whole-request deadline of the requests to HMS, kept by the sockets they are made on.

requests' ``timeout`` applies to each read, so an upstream that sends one byte a second keeps a request alive
for ever. Here the client sets, per thread, the moment by which its request must be over (``deadline.at``),
and every read and write of a socket in the pools :class:`DeadlineAdapter` mounts waits only for the time
left; none at all once it is gone.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from typing import Any, Literal, cast

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["Deadline", "DeadlineAdapter", "deadline"]


class Deadline(threading.local):
    """The monotonic time by which the request this thread is making must be over (``None``: no request)."""

    at: float | None = None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


deadline = Deadline()


class _DeadlineSocket:
    """A connected socket whose every read and write waits at most until the current request's deadline.
    Everything else (``fileno``, ``close``, ``shutdown``...) goes to the real socket, so urllib3 pools and
    checks it as usual."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._io_refs = 0
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def _arm(self) -> None:
        left = deadline.remaining()
        if left is not None:
            if left <= 0:
                raise TimeoutError("the request deadline has passed")
            self._sock.settimeout(left)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    def makefile(
        self, mode: Literal["r", "w", "rw", "rb", "wb", "rwb"] = "rb", buffering: int = -1, **_: Any
    ) -> io.BufferedReader:
        # http.client reads the answer through this file; it must read through ``recv_into`` above, so it
        # is built on this object and not on the real socket.
        # SocketIO is typed for a real socket, but it only reads and writes through it: this object will do.
        raw = socket.SocketIO(cast(socket.socket, self), mode)
        self._io_refs += 1
        return io.BufferedReader(raw, io.DEFAULT_BUFFER_SIZE if buffering < 0 else max(buffering, 1))

    # As a socket does: http.client closes the connection as soon as it has the headers of an answer that
    # ends the connection, and the body is then read through the file; the descriptor must stay open until
    # that file is closed too.
    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def _decref_socketios(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._sock.close()


class _DeadlineHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock)


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


_DEADLINE_POOLS = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with pools (direct or through an HTTP proxy) of deadline-keeping connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _DEADLINE_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are urllib3's own kind
            manager.pool_classes_by_scheme = _DEADLINE_POOLS
        return manager
