"""``HMSClient``: creates HMS web calls over HTTPS. Usable without Flask. It and the transport under it
(``_deadline``) are the only modules importing requests; ``_answers`` reads what HMS answers.

Every failure becomes one of the :class:`~flask_hms_webcall.errors.HMSAPIError` subclasses, with HMS's own
error text (``{"detail": ...}`` or ``{"error": {...}}``) as ``detail``. The API key never appears in an
exception, a ``repr`` or a log line: it is sent in the ``Authorization`` header and nowhere else.

``timeout`` is a deadline for the whole request (connect, status line, headers, body), not a per-read
timeout: an upstream that sends one byte a second still ends in :class:`HMSTimeoutError` on time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from marshmallow import ValidationError

from ._answers import error_detail, partial_call_id, read_limited, retry_after
from ._deadline import DeadlineAdapter, deadline
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
from .schemas import create_body_error, load_web_call_answer

__all__ = ["HMSClient", "WebCall"]

log = logging.getLogger("flask_hms_webcall")

MAX_DETAIL_LENGTH = 500
USER_AGENT = f"flask-hms-webcall/{__version__}"

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
        session.mount(self.base_url, DeadlineAdapter())
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
        deadline.at = time.monotonic() + self.timeout
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
                raw = read_limited(response, received)
        except requests.ConnectTimeout:
            raise HMSTimeoutError(f"could not connect to {self.base_url} within {self.timeout:g} s") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            # A read cut by the deadline reaches us as a Timeout before the headers, but as a ConnectionError
            # or urllib3's own error while the body streams: the clock says which it was.
            if isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError)) or deadline.passed():
                raise self._timeout(b"".join(received)) from None
            if isinstance(exc, (requests.ConnectionError, urllib3.exceptions.HTTPError)):
                raise HMSConnectionError(f"could not connect to {self.base_url}") from None
            raise HMSConnectionError(f"request to {self.base_url} failed ({type(exc).__name__})") from None
        finally:
            deadline.at = None

        if response.status_code in (200, 201):
            return self._web_call(raw)
        raise self._error(response, raw)

    def _timeout(self, partial: bytes) -> HMSTimeoutError:
        # The request was sent, so HMS may have created the call: its id goes to the log, so that an
        # operator can match the orphan to HMS's records (it ends by itself when nobody joins).
        call_id = partial_call_id(partial)
        created = f"call {call_id}" if call_id else "a call (its id was not received)"
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
            loaded = load_web_call_answer(data)
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
        detail, code = error_detail(raw)
        detail = self._redact(detail or response.reason or "no detail")
        if code is not None:
            code = self._redact(code)
        if status in STATUS_ERRORS:
            cls = STATUS_ERRORS[status]
        elif 300 <= status < 400:
            cls, detail = HMSServerError, f"unexpected redirect ({detail})"
        else:
            cls = HMSServerError
        wait = retry_after(response.headers.get("Retry-After"))
        return cls(detail, status=status, code=code, retry_after=wait)

    def _redact(self, text: str) -> str:
        # An upstream that echoes the Authorization header back must not put the key into our logs.
        return text.replace(self._api_key, "[redacted]")[:MAX_DETAIL_LENGTH]
