"""What every answer under ``HMS_URL_PREFIX`` looks like: JSON, in the documented error shape when something
goes wrong (an unknown path, a wrong method, a foreign Host, a body too large, a bug in a hook), never an HTML
page or a stack trace, and never kept by a cache unless it is a widget file.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import PathConverter, Rule

from . import signals
from ._callers import Caller
from ._cors import BROWSER_ENDPOINTS, add_cors_headers
from ._state import EXTENSION_KEY, current_app_object, current_state
from ._static import WIDGET_FILE
from .errors import BrowserError, error_body

__all__ = ["add_catch_all", "json_for_untrusted_hosts", "json_response", "register_error_handlers"]

log = logging.getLogger("flask_hms_webcall")

# Known paths under the prefix and their methods, so a wrong method gets a JSON 405 with Allow.
KNOWN_PATHS = {
    "web-calls": "POST, OPTIONS",
    "webhooks": "POST",
    "challenge": "GET, HEAD, OPTIONS",
    "call": "GET, HEAD",
    WIDGET_FILE: "GET, HEAD",
}
CALL_PATHS = {
    re.compile(r"web-calls/[^/]+/feedback"): "POST, OPTIONS",
    re.compile(r"web-calls/[^/]+/actions"): "GET",
}
HTTP_ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}
# One encoder for every answer: json.dumps builds a new one for each call given options, at a cost of
# several times the encoding of a small body; an encoder keeps no state between calls.
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
WIDGET_ENDPOINTS = frozenset(f"{EXTENSION_KEY}.{n}" for n in ("static_file", "widget"))
WEBHOOK_ENDPOINT = f"{EXTENSION_KEY}.webhooks"


def json_response(body: dict[str, Any], status: int, retry_after: int | None = None) -> Response:
    # Encoded here, compact and sorted as jsonify writes it, rather than through the app's JSON provider:
    # these bodies hold only text, numbers, booleans, lists and objects, and the provider's detour (its
    # options looked up, an encoder built) cost a signed webhook delivery two thirds of what checking its
    # signature does (docs/deployment.md has the instruction counts).
    data = (_ENCODER.encode(body) + "\n").encode()
    response = current_app.response_class(data, status=status, mimetype="application/json")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register_error_handlers(bp: Blueprint) -> None:
    """The blueprint's handlers: JSON errors, and the headers every answer carries."""
    bp.register_error_handler(BrowserError, _browser_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected_error)
    bp.after_request(_headers)


class _AnyPath(PathConverter):
    """``path`` that also matches a newline (``%0A``): the stock one stops at it."""

    regex = "(?s:.+)"
    part_isolating = False  # spans slashes (Werkzeug guesses True for a regex without a "/")


def add_catch_all(state: BlueprintSetupState) -> None:
    # Whatever reaches the prefix must be routed to the blueprint, or it fails in routing, before the
    # blueprint is known, and gets Werkzeug's HTML page instead of the JSON error: so any method (None:
    # TRACE, PROPFIND, ...), any characters, and the bare prefix (strict slashes redirect to the Host).
    endpoint = f"{state.name_prefix}.{state.name}.not_found".lstrip(".")
    prefix = (state.url_prefix or "").rstrip("/")
    state.app.url_map.converters.setdefault("hms_any_path", _AnyPath)
    state.app.view_functions[endpoint] = not_found
    state.app.url_map.add(Rule(prefix + "/", endpoint=endpoint, methods=None, strict_slashes=False))
    state.app.url_map.add(Rule(prefix + "/<hms_any_path:path>", endpoint=endpoint, methods=None))


def json_for_untrusted_hosts(state: BlueprintSetupState) -> None:
    # A Host outside TRUSTED_HOSTS is refused while the request is set up, before the blueprint is known,
    # so only an app-wide handler sees it: JSON under the prefix, the app's usual page elsewhere.
    prefix = (state.url_prefix or "").rstrip("/")

    def untrusted_host(exc: SecurityError) -> Any:
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return json_response(error_body("invalid_request"), 400)
        return exc

    state.app.register_error_handler(SecurityError, untrusted_host)


def not_found(path: str = "") -> Response:
    allow = KNOWN_PATHS.get(path) or ("GET, HEAD" if path.startswith("static/") else None)
    for pattern, methods in CALL_PATHS.items():
        allow = allow or (methods if pattern.fullmatch(path) else None)
    # A GET of a static path no file rule matched (``static//etc/passwd``) is not found, not a wrong method.
    if allow is not None and request.method not in allow.split(", "):
        response = json_response(error_body("method_not_allowed"), 405)
        response.headers["Allow"] = allow
        return response
    return json_response(error_body("not_found"), 404)


def _browser_error(exc: BrowserError) -> Response:
    if request.endpoint == f"{EXTENSION_KEY}.web_calls":
        identity = _identity_or_none()
        caller = Caller.of(identity, request.remote_addr, current_state().settings)
        signals.call_refused.send(current_app_object(), code=exc.code, identity=identity, caller=caller.key)
    return json_response(exc.body(), exc.status, exc.retry_after)


def _identity_or_none() -> str | None:
    try:
        return current_state().identity()
    except Exception:  # the identity loader itself may be what failed
        return None


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = HTTP_ERROR_CODES.get(status) or ("internal_error" if status >= 500 else "invalid_request")
    response = json_response(error_body(code), status)
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def _unexpected_error(exc: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.path)
    return json_response(error_body("internal_error"), 500)


def _headers(response: Response) -> Response:
    endpoint = request.endpoint
    if endpoint == WEBHOOK_ENDPOINT and response.status_code < 300:
        # A delivery answered with success was signed with the webhook secret: the answer goes to HMS's
        # servers alone, never to a browser, and a cache keeps no answer to a POST that gives no freshness.
        # The browser's headers would only cost each delivery (a third of what the extension adds to a bare
        # HMAC view: docs/deployment.md). Refusals, which anyone can get, carry them.
        return response
    response.headers["X-Content-Type-Options"] = "nosniff"  # setdefault raises and catches when it is absent
    # Errors too: a 404 is cacheable by default, and a chunk missing during a deploy must not stay missing.
    if endpoint not in WIDGET_ENDPOINTS or response.status_code >= 400:
        # Tokens and errors are per visitor and per moment: no cache may keep them.
        response.headers["Cache-Control"] = "no-store"
    if endpoint in BROWSER_ENDPOINTS:
        add_cors_headers(response)
    return response
