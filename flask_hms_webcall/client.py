"""``HMSClient``: creates HMS web calls over HTTPS. Usable without Flask; the only module importing requests.

Every failure becomes one of the :class:`~flask_hms_webcall.errors.HMSAPIError` subclasses, with HMS's own
error text (``{"detail": ...}`` or ``{"error": {...}}``) as ``detail``. The API key never appears in an
exception, a ``repr`` or a log line: it is sent in the ``Authorization`` header and nowhere else.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import requests
from marshmallow import ValidationError

from ._config import DEFAULT_API_BASE_URL, check_base_url
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
from .schemas import WebCallResponseSchema, create_body_error

__all__ = ["HMSClient", "WebCall"]

log = logging.getLogger("flask_hms_webcall")

WEB_CALLS_PATH = "/v1/web-calls"
MAX_DETAIL_LENGTH = 500
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "flask-hms-webcall/0.1"

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
        self._session = session or requests.Session()

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
        try:
            payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        except (TypeError, ValueError):
            raise HMSInvalidRequestError("the assistant configuration is not JSON-serialisable") from None
        return self._post(payload)

    def _post(self, payload: bytes) -> WebCall:
        url = self.base_url + WEB_CALLS_PATH
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        # The requests exceptions are not chained (``from None``): their text and attributes carry the
        # prepared request, headers included, and nothing of them is needed by the caller.
        try:
            response = self._session.post(
                url, data=payload, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
            with response:
                raw = _read_limited(response)
        except requests.Timeout:
            raise HMSTimeoutError(f"no answer from {self.base_url} within {self.timeout:g} s") from None
        except requests.ConnectionError:
            raise HMSConnectionError(f"could not connect to {self.base_url}") from None
        except requests.RequestException as exc:
            raise HMSConnectionError(f"request to {self.base_url} failed ({type(exc).__name__})") from None

        if response.status_code in (200, 201):
            return self._web_call(raw)
        raise self._error(response, raw)

    def _web_call(self, raw: bytes) -> WebCall:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise HMSResponseError("the success answer is not JSON", status=200) from None
        if not isinstance(data, dict):
            raise HMSResponseError("the success answer is not a JSON object", status=200)
        try:
            loaded = WebCallResponseSchema().load(data)
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


def _read_limited(response: requests.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(8192):
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
