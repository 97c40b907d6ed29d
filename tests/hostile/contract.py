"""The app under attack and the contract every answer is held to: the documented error shape and status, and
no secret, stack trace or HTML page anywhere."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from flask import Flask, Response

from flask_hms_webcall import HMSWebCall
from tests import support
from tests.support import API_KEY, SALES_ID, SECRET, slots_held

OLD_SECRET = "whsec_HARDEN_previous_u2H7aK9mP3"  # the previous webhook secret of a rotation
SECRETS = (API_KEY, SECRET, OLD_SECRET)
SITE = "http://localhost"  # the Flask test client's own origin

# The browser contract's error table (docs/browser-contract.md), plus the JSON answers for 404/405/413 under
# the prefix and the webhook route's own codes.
DOCUMENTED_ERRORS = {
    "invalid_request": 400,
    "unauthenticated": 401,
    "forbidden_origin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "rate_limited": 429,
    "too_many_calls": 429,
    "misconfigured": 500,
    "upstream_error": 502,
    "busy": 503,
    "unavailable": 503,
    "upstream_timeout": 504,
    "invalid_signature": 401,
    "invalid_payload": 400,
}


def hostile_app(**config: Any) -> tuple[Flask, HMSWebCall, list]:
    """``support.make_app`` with a default assistant and one named ``sales``, both secrets of a webhook
    rotation, and a rate limit no property reaches; visitors are anonymous (keyed by IP) until they sign in.
    Tools ``echo`` and ``boom`` (which raises). Returns the app, the extension and every event dispatched."""
    app, webcall = support.make_app(
        **{
            "HMS_ASSISTANTS": {"sales": SALES_ID},
            "HMS_WEBHOOK_SECRET": [SECRET, OLD_SECRET],
            "HMS_RATE_LIMIT": "1000 per minute",
            **config,
        }
    )
    seen: list = []

    @webcall.on()
    def record(event: Any) -> None:
        seen.append(event)

    @webcall.tool("echo")
    def echo(arguments: dict, event: Any) -> Any:
        return arguments

    @webcall.tool("boom")
    def boom(arguments: dict, event: Any) -> Any:
        raise RuntimeError("the tool broke")

    return app, webcall, seen


def slots(app: Flask) -> int:
    """Calls holding a concurrency slot: a refused request must leave this at what it was."""
    return slots_held(app.extensions["hms_webcall"].store)


def secrets_in(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def assert_clean(response: Response) -> None:
    """No stack trace, no HTML page, no secret: in the body or in any header."""
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    assert "<html" not in text.lower() and "<!doctype" not in text.lower()
    assert secrets_in(text) == []
    for name, value in response.headers.items():
        assert secrets_in(f"{name}: {value}") == [], name


def assert_refused(response: Response, *codes: str) -> str:
    """One of ``codes`` (any documented code when none given), exactly ``{"error": {"code", "message"}}``,
    with the status the contract gives that code, never cached. Returns the code."""
    assert_clean(response)
    assert response.status_code != 500 or "misconfigured" in codes, response.get_data(as_text=True)
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, error
    assert error["code"] in (codes or DOCUMENTED_ERRORS), error
    support.assert_error(response, DOCUMENTED_ERRORS[error["code"]], error["code"])
    assert error["message"].strip()
    assert response.headers.get("Cache-Control") == "no-store"
    return error["code"]


def assert_no_secret_logged(records: list[logging.LogRecord]) -> None:
    for record in records:
        parts = [record.getMessage(), repr(record.args), record.exc_text or ""]
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        text = "\n".join(parts)
        assert secrets_in(text) == [], f"{record.name}: {text[:300]}"
