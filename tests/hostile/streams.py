"""Request bodies handed to the app the way a WSGI server does: from a socket-like stream, with the length the
client declared (even a false one) or chunked."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, Response
from werkzeug.test import EnvironBuilder, run_wsgi_app


class Endless(io.RawIOBase):
    """A request body that never ends (or ends after ``size`` bytes), serving at most ``step`` bytes a read
    the way a socket does, and counting what was taken from it."""

    def __init__(self, size: int | None = None, data: bytes = b"", step: int = 65536) -> None:
        self.size = size
        self.data = data
        self.step = step
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = len(buffer) if self.size is None else min(len(buffer), self.size - self.served)
        n = max(0, min(left, self.step))
        if self.data:
            buffer[:n] = self.data[self.served : self.served + n]
        else:
            buffer[:n] = b"x" * n
        self.served += n
        return n


def post_stream(
    app: Flask, path: str, stream: Endless, headers: dict[str, str], content_length: int | None = None
) -> Response:
    """POST a body from ``stream`` as a WSGI server would hand it over: with the Content-Length the client
    declared (even a false one), or chunked (no Content-Length, the server terminates the input)."""
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = stream
    environ.pop("CONTENT_LENGTH", None)
    if content_length is None:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(content_length)
    app_iter, status, response_headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    return app.response_class(b"".join(app_iter), status=status, headers=response_headers)
