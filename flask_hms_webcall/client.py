"""``HMSClient``: creates HMS web calls over HTTPS. Usable without Flask; the only module importing requests.

Every failure becomes one of the :class:`~flask_hms_webcall.errors.HMSAPIError` subclasses, with HMS's own
error text (``{"detail": ...}`` or ``{"error": {...}}``) as ``detail``. The API key never appears in an
exception, a ``repr`` or a log line: it is sent in the ``Authorization`` header and nowhere else.

``timeout`` is a deadline for the whole request (connect, status line, headers, body), not a per-read
timeout: an upstream that sends one byte a second still ends in :class:`HMSTimeoutError` on time.
"""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import requests
import urllib3
from marshmallow import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ._urls import DEFAULT_API_BASE_URL, check_base_url
from ._version import __version__
from .errors import (
    ConfigurationError,
    HMSAPIError,
    HMSAuthenticationError,
    HMSConcurrencyLimitError,
    HMSConnectionError,
    HMSForbiddenError,
    HMSInsufficientCreditsError,
    HMSInvalidRequestError,
    HMSResponseError,
    HMSServerError,
    HMSTimeoutError,
)
from .hms import WEB_CALLS_PATH
from .schemas import WEB_CALL_RESPONSE_SCHEMA, create_body_error

__all__ = ["HMSClient", "WebCall"]

log = logging.getLogger("flask_hms_webcall")

MAX_DETAIL_LENGTH = 500
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = f"flask-hms-webcall/{__version__}"
# Only the call id is taken from an answer cut short by the deadline, for the log: the token stays out of it.
PARTIAL_CALL_ID = re.compile(rb'"call_id"\s*:\s*"([A-Za-z0-9_.:-]{1,200})"')

STATUS_ERRORS: dict[int, type[HMSAPIError]] = {
    400: HMSInvalidRequestError,
    401: HMSAuthenticationError,
    402: HMSInsufficientCreditsError,
    403: HMSForbiddenError,
    422: HMSInvalidRequestError,
    429: HMSConcurrencyLimitError,
}


@dataclass(frozen=True)
class WebCall:
    """A created web call: what the browser needs to join it. ``token`` is short-lived (5 minutes)."""

    call_id: str
    room_name: str
    token: str = field(repr=False)
    server_url: str


class HMSClient:
    """Talks to ``POST {base_url}/v1/web-calls`` with one pooled HTTP session.

    >>> client = HMSClient("fl_live_...")                                       # doctest: +SKIP
    >>> call = client.create_web_call(assistant_id="17a0cb75-fa09-4bdd-9a44-92a70d829c88")  # doctest: +SKIP
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ConfigurationError("an HMS API key is required")
        self._api_key = api_key
        self.base_url = check_base_url(base_url)
        self.timeout = timeout
        self._url = self.base_url + WEB_CALLS_PATH
        if session is None:
            session = requests.Session()
            # requests reads the proxy and CA bundle variables (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE...)
            # again on every call, which costs more than the rest of the client: they are read once, here.
            env = session.merge_environment_settings(self._url, {}, None, None, None)
            session.proxies.update(env["proxies"])
            session.verify = env["verify"]
            session.trust_env = False
        # Connections to HMS come from pools whose sockets keep to the deadline of the request being made.
        session.mount(self.base_url, _DeadlineAdapter())
        self._session = session

    def __repr__(self) -> str:
        return f"HMSClient(base_url={self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def create_web_call(
        self,
        *,
        assistant_id: str | None = None,
        assistant_override: dict[str, Any] | None = None,
        assistant: dict[str, Any] | None = None,
    ) -> WebCall:
        """Create a web call in reference (``assistant_id``), hybrid (``assistant_id`` +
        ``assistant_override``) or transient (``assistant``) mode.

        The body is checked against HMS's documented rules first: a body HMS would refuse raises
        :class:`HMSInvalidRequestError` with HMS's own detail text and is never sent.
        """
        body: dict[str, Any] = {}
        if assistant_id is not None:
            body["assistant_id"] = assistant_id
        if assistant_override is not None:
            body["assistant_override"] = assistant_override
        if assistant is not None:
            body["assistant"] = assistant
        problem = create_body_error(body)
        if problem is not None:
            raise HMSInvalidRequestError(problem)
        return self._create_checked(body)

    def _create_checked(self, body: dict[str, Any]) -> WebCall:
        """Create a web call from a body :func:`~flask_hms_webcall.schemas.create_body_error` has passed: the
        extension checks the body before it admits the call, and does not pay for the same check twice."""
        try:
            payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        except (TypeError, ValueError):
            raise HMSInvalidRequestError("the assistant configuration is not JSON-serialisable") from None
        return self._post(payload)

    def _post(self, payload: bytes) -> WebCall:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        received: list[bytes] = []
        _deadline.at = time.monotonic() + self.timeout
        # The requests exceptions are not chained (``from None``): their text and attributes carry the
        # prepared request, headers included, and nothing of them is needed by the caller.
        try:
            response = self._session.post(
                self._url,
                data=payload,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
            with response:
                raw = _read_limited(response, received)
        except requests.ConnectTimeout:
            raise HMSTimeoutError(f"could not connect to {self.base_url} within {self.timeout:g} s") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            # A read cut by the deadline reaches us as a Timeout before the headers, but as a ConnectionError
            # or urllib3's own error while the body streams: the clock says which it was.
            if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)) or _deadline.passed():
                raise self._timeout(b"".join(received)) from None
            if isinstance(exc, (requests.ConnectionError, urllib3.exceptions.HTTPError)):
                raise HMSConnectionError(f"could not connect to {self.base_url}") from None
            raise HMSConnectionError(f"request to {self.base_url} failed ({type(exc).__name__})") from None
        finally:
            _deadline.at = None

        if response.status_code in (200, 201):
            return self._web_call(raw)
        raise self._error(response, raw)

    def _timeout(self, partial: bytes) -> HMSTimeoutError:
        # The request was sent, so HMS may have created the call: its id goes to the log, so that an
        # operator can match the orphan to HMS's records (it ends by itself when nobody joins).
        match = PARTIAL_CALL_ID.search(partial)
        created = f"call {match.group(1).decode()}" if match else "a call (its id was not received)"
        return HMSTimeoutError(
            f"no complete answer from {self.base_url} within {self.timeout:g} s; "
            f"HMS may have created {created}"
        )

    def _web_call(self, raw: bytes) -> WebCall:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise HMSResponseError("the success answer is not JSON", status=200) from None
        if not isinstance(data, dict):
            raise HMSResponseError("the success answer is not a JSON object", status=200)
        try:
            loaded = WEB_CALL_RESPONSE_SCHEMA.load(data)
        except ValidationError as exc:
            fields_ = ", ".join(sorted(str(key) for key in exc.messages))
            raise HMSResponseError(f"the success answer lacks usable fields: {fields_}", status=200) from None
        return WebCall(
            call_id=loaded["call_id"],
            room_name=loaded["room_name"],
            token=loaded["token"],
            server_url=loaded["server_url"],
        )

    def _error(self, response: requests.Response, raw: bytes) -> HMSAPIError:
        status = response.status_code
        detail, code = _error_detail(raw)
        detail = self._redact(detail or response.reason or "no detail")
        if code is not None:
            code = self._redact(code)
        if status in STATUS_ERRORS:
            cls = STATUS_ERRORS[status]
        elif 300 <= status < 400:
            cls, detail = HMSServerError, f"unexpected redirect ({detail})"
        else:
            cls = HMSServerError
        retry_after = _retry_after(response.headers.get("Retry-After"))
        return cls(detail, status=status, code=code, retry_after=retry_after)

    def _redact(self, text: str) -> str:
        # An upstream that echoes the Authorization header back must not put the key into our logs.
        return text.replace(self._api_key, "[redacted]")[:MAX_DETAIL_LENGTH]


def _read_limited(response: requests.Response, chunks: list[bytes]) -> bytes:
    """The body, at most ``MAX_RESPONSE_BYTES``; ``chunks`` keeps what arrived if the deadline cuts it."""
    # ``read1`` hands over whatever has arrived, where ``iter_content`` waits for full chunks: so a body cut
    # short by the deadline still shows its call id. urllib3 1.x has no ``read1``.
    read1 = getattr(response.raw, "read1", None)
    pieces = iter(lambda: read1(8192, decode_content=True), b"") if read1 else response.iter_content(8192)
    size = 0
    for chunk in pieces:
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _error_detail(raw: bytes) -> tuple[str | None, str | None]:
    """HMS's error text and code from ``{"detail": ...}`` (FastAPI style, a string or a list of problems),
    ``{"error": {"code", "message"}}`` or ``{"error": "...", "message": "..."}``."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        text = raw.decode("utf-8", "replace").strip()
        return (" ".join(text.split()) or None), None
    if not isinstance(data, dict):
        return None, None
    detail = data.get("detail")
    if isinstance(detail, str):
        return detail, None
    if isinstance(detail, list):
        parts = [item.get("msg") if isinstance(item, dict) else item for item in detail]
        texts = [part for part in parts if isinstance(part, str)]
        if texts:
            return "; ".join(texts), None
    error = data.get("error")
    if isinstance(error, dict):
        message, code = error.get("message"), error.get("code")
        return (
            message if isinstance(message, str) else None,
            code if isinstance(code, str) else None,
        )
    message = data.get("message")
    if isinstance(error, str):
        return (message if isinstance(message, str) else error), error
    if isinstance(message, str):
        return message, None
    return None, None


def _retry_after(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return min(int(value.strip()), 3600)
    return None


# ----------------------------------------------------------------------------------------------- deadlines


class _Deadline(threading.local):
    """The monotonic time by which the request this thread is making must be over (``None``: no request)."""

    at: float | None = None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


_deadline = _Deadline()


class _DeadlineSocket:
    """A connected socket whose every read and write waits at most until the current request's deadline.

    requests' timeout applies to each read, so a byte a second would keep a request alive forever; here
    each ``recv`` gets only the time left, and none at all once it is gone. Everything else (``fileno``,
    ``close``, ``shutdown``...) goes to the real socket, so urllib3 pools and checks it as usual.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._io_refs = 0
        self._closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def _arm(self) -> None:
        left = _deadline.remaining()
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


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with pools (direct or through an HTTP proxy) of deadline-keeping connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _DEADLINE_POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools are urllib3's own kind
            manager.pool_classes_by_scheme = _DEADLINE_POOLS
        return manager
