"""Exceptions raised by flask-hms-webcall, and the one JSON error shape the browser sees.

Every error the browser can receive is ``{"error": {"code": ..., "message": ...}}``; the codes are listed in
the README's browser contract. Nothing from upstream (HMS bodies, keys, stack traces) is ever put in it.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = [
    "BROWSER_ERRORS",
    "BrowserError",
    "ConfigurationError",
    "HMSAPIError",
    "HMSAuthenticationError",
    "HMSConcurrencyLimitError",
    "HMSConnectionError",
    "HMSForbiddenError",
    "HMSInsufficientCreditsError",
    "HMSInvalidRequestError",
    "HMSResponseError",
    "HMSServerError",
    "HMSTimeoutError",
    "HMSWebCallError",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "error_body",
    "setting_name",
]


class HMSWebCallError(Exception):
    """Base class of every exception this package raises."""


class ConfigurationError(HMSWebCallError, click.ClickException):
    """The app's configuration is unusable; raised at ``init_app`` time, never per request.

    Also a :class:`click.ClickException`, as Flask's own ``NoAppException`` is: raised while ``flask run``
    or ``flask hms ...`` imports the app, it ends the command with one ``Error: ...`` line and status 1
    instead of a traceback (``click`` comes with Flask).
    """


def setting_name(key: str) -> str:
    """``key`` (``HMS_API_KEY``, ``HMS_ASSISTANTS['sales']``) as a message names it: the ``app.config`` key,
    and the environment variable that sets it through ``app.config.from_prefixed_env()`` (the README's way),
    which strips the ``FLASK_`` prefix, so a user who exported ``FLASK_HMS_API_KEY`` recognises it."""
    variable = "FLASK_" + key.partition("[")[0]
    return f"{key} (or {variable} in the environment with app.config.from_prefixed_env())"


class WebhookError(HMSWebCallError):
    """A webhook delivery was refused."""


class WebhookSignatureError(WebhookError):
    """The delivery is not authentic: signature or timestamp missing, malformed, wrong or stale (401)."""


class WebhookPayloadError(WebhookError):
    """The delivery is authentic but its body is not a usable webhook payload (400)."""


# ------------------------------------------------------------------------------------------- HMS API errors


class HMSAPIError(HMSWebCallError):
    """Creating a web call failed. ``status`` is the HTTP status HMS answered (``None`` when there was no
    answer), ``detail`` its error text (never the API key), ``retry_after`` its ``Retry-After`` in seconds."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.detail}" if self.status is not None else self.detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, detail={self.detail!r})"


class HMSInvalidRequestError(HMSAPIError):
    """400: the request body breaks one of the documented rules (also raised locally, before sending)."""


class HMSAuthenticationError(HMSAPIError):
    """401: HMS does not recognise the API key."""


class HMSInsufficientCreditsError(HMSAPIError):
    """402: the organisation has no balance left."""


class HMSForbiddenError(HMSAPIError):
    """403: the assistant does not exist or belongs to another organisation."""


class HMSConcurrencyLimitError(HMSAPIError):
    """429: the organisation already has its maximum of concurrent web calls."""


class HMSServerError(HMSAPIError):
    """5xx, or any status HMS does not document for this endpoint."""


class HMSResponseError(HMSAPIError):
    """HMS answered success, but not with a usable web call (no token, no server URL...)."""


class HMSConnectionError(HMSAPIError):
    """HMS could not be reached."""


class HMSTimeoutError(HMSAPIError):
    """HMS did not answer within ``HMS_REQUEST_TIMEOUT``."""


# ------------------------------------------------------------------------------------- the browser's errors

# code -> (HTTP status, the message a visitor may read). Messages are fixed: no upstream text ever reaches
# the browser, so nothing about keys, billing or configuration can leak through them. The last few codes
# answer webhook deliveries.
BROWSER_ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The request is not valid."),
    "unauthenticated": (401, "Please sign in to start a call."),
    "forbidden_origin": (403, "Calls cannot be started from this site."),
    "not_found": (404, "Not found."),
    "method_not_allowed": (405, "Method not allowed."),
    "payload_too_large": (413, "The request body is too large."),
    "consent_required": (400, "Please accept the terms of the call first."),
    "challenge_required": (401, "Please complete the check before starting a call."),
    "challenge_failed": (403, "The check failed. Please try again."),
    "forbidden": (403, "You cannot do this."),
    "already_rated": (409, "This call has already been rated. Thank you!"),
    "call_ended": (410, "This call has ended."),
    "not_waiting": (409, "Nothing is waiting for this answer."),
    "rate_limited": (429, "Too many call attempts. Please wait before trying again."),
    "too_many_calls": (429, "You already have a call in progress."),
    "budget_exhausted": (429, "Calls are used up for today. Please try again tomorrow."),
    "misconfigured": (500, "Calls are not set up correctly on this site."),
    "internal_error": (500, "Something went wrong on our side."),
    "upstream_error": (502, "The voice service failed. Please try again."),
    "busy": (503, "All lines are busy right now. Please try again shortly."),
    "unavailable": (503, "Calls are unavailable right now."),
    "upstream_timeout": (504, "The voice service did not answer in time. Please try again."),
    # Answers to HMS's webhook deliveries (server to server).
    "invalid_signature": (401, "The webhook signature or timestamp is missing, malformed, wrong or stale."),
    "invalid_payload": (400, "The webhook body is not a JSON object with a message object."),
    "delivery_in_progress": (409, "This delivery is being handled right now; retry later."),
    "handler_error": (500, "A webhook handler failed; the delivery may be retried."),
}


def error_body(code: str, message: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"error": {"code", "message"}}`` for ``code``, with its standard message unless one is given, and
    ``extra`` fields where a code carries more (``challenge_required`` carries the challenge)."""
    return {"error": {"code": code, "message": message or BROWSER_ERRORS[code][1], **(extra or {})}}


class BrowserError(HMSWebCallError):
    """A refusal the browser is told about, in the documented shape; raised inside the extension's views."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        retry_after: int | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        # budget_exhausted answers 429 for the caller's own budget and 503 for the site's.
        self.status = status or BROWSER_ERRORS[code][0]
        self.message = message or BROWSER_ERRORS[code][1]
        self.retry_after = retry_after
        self.extra = extra
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.extra)
