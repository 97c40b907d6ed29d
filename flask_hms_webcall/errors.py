"""Exceptions raised by flask-hms-webcall, and the one JSON error shape the browser sees.

Every error the browser can receive is ``{"error": {"code": ..., "message": ...}}``; the codes are listed in
the README's browser contract. Nothing from upstream (HMS bodies, keys, stack traces) is ever put in it.
"""

from __future__ import annotations


class HMSWebCallError(Exception):
    """Base class of every exception this package raises."""


class ConfigurationError(HMSWebCallError):
    """The app's configuration is unusable; raised at ``init_app`` time, never per request."""


class WebhookError(HMSWebCallError):
    """A webhook delivery was refused."""


class WebhookSignatureError(WebhookError):
    """The delivery is not authentic: signature or timestamp missing, malformed, wrong or stale (401)."""


class WebhookPayloadError(WebhookError):
    """The delivery is authentic but its body is not a usable webhook payload (400)."""
