"""Signing and verifying HMS webhook deliveries, over raw bytes, with no web framework involved.

HMS signs ``<X-Webhook-Timestamp>.<raw body>`` with HMAC-SHA256 and the assistant's webhook secret, and sends
``X-Webhook-Signature: sha256=<hex>``. The timestamp is Unix seconds.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Iterable

from .errors import WebhookSignatureError
from .hms import EVENT_HEADER, SIGNATURE_HEADER, SIGNATURE_PREFIX, TIMESTAMP_HEADER

__all__ = [
    "DEFAULT_TOLERANCE",
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "SIGNATURE_PREFIX",
    "TIMESTAMP_HEADER",
    "delivery_headers",
    "sign",
    "signature_header",
    "verify",
]

HMS_USER_AGENT = "HMS-Sovereign/1.0"
DEFAULT_TOLERANCE = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret`` (no ``sha256=`` prefix)."""
    return _mac(secret, str(timestamp).encode() + b"." + body)


def _mac(secret: str, message: bytes) -> str:
    mac = _keyed(secret).copy()
    mac.update(message)
    return mac.hexdigest()


@functools.lru_cache(maxsize=32)
def _keyed(secret: str) -> hmac.HMAC:
    # An HMAC already keyed with the secret, copied for each message: keying one (the key's padding hashed,
    # OpenSSL's digest looked up) cost a quarter of verifying a delivery, and it is the same every time.
    return hmac.new(secret.encode(), digestmod=hashlib.sha256)


def signature_header(secret: str, timestamp: int | str, body: bytes) -> str:
    """The value HMS puts in ``X-Webhook-Signature``."""
    return SIGNATURE_PREFIX + sign(secret, timestamp, body)


def delivery_headers(
    event_type: str,
    body: bytes,
    secret: str | None = None,
    *,
    timestamp: int | None = None,
    user_agent: str = HMS_USER_AGENT,
) -> dict[str, str]:
    """The headers HMS sends with a webhook delivery of ``body``; signed only when there is a secret, as HMS
    leaves the signature out for an assistant without one."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "User-Agent": user_agent,
        EVENT_HEADER: event_type,
        TIMESTAMP_HEADER: str(ts),
    }
    if secret:
        headers[SIGNATURE_HEADER] = signature_header(secret, ts, body)
    return headers


def verify(
    body: bytes,
    signature: str | None,
    timestamp: str | int | None,
    secrets: str | Iterable[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a delivery; return ``None`` when it is authentic, raise :class:`WebhookSignatureError` if not.

    Any one of ``secrets`` may match, so a secret can be rotated without dropping deliveries. The timestamp
    must lie within ``tolerance`` seconds of ``now`` in either direction: a replay of an old delivery fails,
    and so does one stamped in the future by a sender with a wrong clock.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    candidates = [s for s in secrets if s]
    if not candidates:
        raise WebhookSignatureError("no webhook secret is configured")
    if not signature:
        raise WebhookSignatureError("missing X-Webhook-Signature header")
    ts_text = "" if timestamp is None else str(timestamp).strip()
    if not ts_text:
        raise WebhookSignatureError("missing X-Webhook-Timestamp header")
    if not ts_text.isascii() or not ts_text.isdigit() or len(ts_text) > 12:
        raise WebhookSignatureError("malformed X-Webhook-Timestamp header")
    current = time.time() if now is None else now
    if abs(current - int(ts_text)) > tolerance:
        raise WebhookSignatureError("timestamp outside the tolerance window")
    # One older page variant of the HMS docs sends the bare hex digest: strip the prefix only when present.
    received = signature.strip().removeprefix(SIGNATURE_PREFIX)
    if not received.isascii():
        raise WebhookSignatureError("malformed X-Webhook-Signature header")
    received = received.lower()
    message = ts_text.encode() + b"." + body  # what sign() signs, built once for all the secrets
    matched = False
    for secret in candidates:
        # Compare against every secret so the time taken does not reveal which one matched.
        matched |= hmac.compare_digest(_mac(secret, message), received)
    if not matched:
        raise WebhookSignatureError("signature does not match")
