"""The blueprint under ``HMS_URL_PREFIX``: the only module touching ``flask.request``.

Every answer under the prefix is JSON in the documented error shape when something goes wrong (a 404, a
405, a body too large, a bug in a hook): never an HTML page, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, send_from_directory
from flask.blueprints import BlueprintSetupState
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter, Rule

from ._config import normalize_origin
from ._extension import EXTENSION_KEY, WebCallState
from .errors import BrowserError, WebhookPayloadError, WebhookSignatureError, error_body
from .schemas import MAX_CONTEXT_ENTRIES, MAX_CONTEXT_VALUE_LENGTH, WebCallRequestSchema
from .signature import SIGNATURE_HEADER, TIMESTAMP_HEADER

__all__ = ["STATIC_DIR", "create_blueprint"]

log = logging.getLogger("flask_hms_webcall")

STATIC_DIR = Path(__file__).resolve().parent / "static"
WIDGET_FILE = "widget.js"
# widget.js keeps its URL across releases, so browsers must look again soon; chunks carry a content hash in
# their name (esbuild's [hash]: 8 characters of A-Z and 2-7), so a cached copy can never be stale.
WIDGET_MAX_AGE = 60
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
HASHED_NAME = re.compile(r"-[A-Z2-7]{8}\.(?:m?js|css|map|wasm)$")
NOT_BUILT_JS = 'console.error("flask-hms-webcall: the widget is not built; run `make widget`");\n'

MAX_REQUEST_BYTES = 8 * 1024
PREFLIGHT_MAX_AGE = 600
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# Known paths under the prefix and their methods, so a wrong method gets a JSON 405 with Allow.
KNOWN_PATHS = {"web-calls": "POST, OPTIONS", "webhooks": "POST", WIDGET_FILE: "GET, HEAD"}

HTTP_ERROR_CODES = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}
FIELD_PROBLEMS = {
    "assistant": "assistant must be the name of one of the site's assistants",
    "context": (
        f"context must be an object of at most {MAX_CONTEXT_ENTRIES} entries, keys of 1-40 letters, "
        f"digits, '_' or '-', values text of at most {MAX_CONTEXT_VALUE_LENGTH} characters"
    ),
}


def create_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint(EXTENSION_KEY, __name__, url_prefix=url_prefix)
    bp.add_url_rule(
        "/web-calls", "web_calls", web_calls, methods=["POST", "OPTIONS"], provide_automatic_options=False
    )
    bp.add_url_rule("/webhooks", "webhooks", webhooks, methods=["POST"])
    bp.add_url_rule("/" + WIDGET_FILE, "widget", widget, methods=["GET"])
    bp.add_url_rule("/static/<path:filename>", "static_file", static_file, methods=["GET"])
    bp.record(_add_catch_all)
    bp.register_error_handler(BrowserError, _browser_error)
    bp.register_error_handler(HTTPException, _http_error)
    bp.register_error_handler(Exception, _unexpected_error)
    bp.after_request(_headers)
    return bp


class _AnyPath(PathConverter):
    """``path`` that also matches a newline (``%0A``): the stock one stops at it."""

    regex = "(?s:.+)"
    part_isolating = False  # spans slashes (Werkzeug guesses True for a regex without a "/")


def _add_catch_all(state: BlueprintSetupState) -> None:
    # Whatever reaches the prefix must be routed to the blueprint, or it fails in routing, before the
    # blueprint is known, and gets Werkzeug's HTML page instead of the JSON error: so any method
    # (methods=None, which Flask's add_url_rule cannot express: TRACE, PROPFIND, ...) and any characters.
    endpoint = f"{state.name_prefix}.{state.name}.not_found".lstrip(".")
    prefix = (state.url_prefix or "").rstrip("/")
    state.app.url_map.converters.setdefault("hms_any_path", _AnyPath)
    state.app.view_functions[endpoint] = not_found
    state.app.url_map.add(Rule(prefix + "/", endpoint=endpoint, defaults={"path": ""}, methods=None))
    state.app.url_map.add(Rule(prefix + "/<hms_any_path:path>", endpoint=endpoint, methods=None))


def _state() -> WebCallState:
    return current_app.extensions[EXTENSION_KEY]


def _json(body: dict[str, Any], status: int, retry_after: int | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


# ------------------------------------------------------------------------------------- POST /web-calls


def web_calls() -> Response:
    state = _state()
    origin = request.headers.get("Origin")
    # Browsers send Origin on every cross-site POST, so an unknown one is someone else's page spending our
    # credits with the visitor's cookies. No Origin at all is not a browser, and is judged like any client.
    if origin is not None and _allowed_origin(state, origin) is None:
        raise BrowserError("forbidden_origin")
    if request.method == "OPTIONS":
        response = Response(status=204)
        if origin is not None:
            response.headers["Access-Control-Allow-Methods"] = "POST"
            response.headers["Access-Control-Allow-Headers"] = _requested_headers()
            response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        else:
            response.headers["Allow"] = KNOWN_PATHS["web-calls"]
        return response

    identity = state.identity()
    if identity is None and state.settings.require_identity:
        raise BrowserError("unauthenticated")
    user_key = f"user:{identity}" if identity is not None else f"ip:{request.remote_addr or 'unknown'}"
    state.check_rate_limit(user_key)
    data = _browser_request()
    return _json(state.create_call(identity, user_key, data), 201)


def _read_body(limit: int) -> bytes | None:
    """The raw request body, or ``None`` when it is longer than ``limit`` bytes. A declared length over the
    limit is refused unread; a streamed body (no Content-Length) is read no further than the limit."""
    length = request.content_length
    if length is not None and length > limit:
        return None
    # A stream may hand the body over in pieces (a read returns what has arrived), so read until it ends.
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return None if size > limit else b"".join(chunks)


def _requested_headers() -> str:
    # The widget may add a CSRF header of the site's choosing; the origin is already vetted, so the headers
    # it asks for are granted when they are plain header names.
    requested = request.headers.get("Access-Control-Request-Headers", "")
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if names and len(names) <= 10 and all(HEADER_NAME.match(name) for name in names):
        return ", ".join(dict.fromkeys(["Content-Type", *names]))
    return "Content-Type"


def _allowed_origin(state: WebCallState, origin: str) -> str | None:
    normalized = normalize_origin(origin)
    if normalized is None:
        return None
    allowed = state.settings.allowed_origins
    if allowed is None:
        allowed = (normalize_origin(request.host_url),)
    return normalized if normalized in allowed else None


def _browser_request() -> dict[str, Any]:
    """The browser's JSON body, checked; an empty body means all defaults."""
    raw = _read_body(MAX_REQUEST_BYTES)
    if raw is None:
        raise BrowserError("invalid_request", "The request body is too large.")
    if not raw.strip():
        return {}
    if request.mimetype != "application/json":
        raise BrowserError(
            "invalid_request", "The request body must be JSON (Content-Type application/json)."
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BrowserError("invalid_request", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BrowserError("invalid_request", "The request body must be a JSON object.")
    try:
        return WebCallRequestSchema().load(data)
    except ValidationError as exc:
        raise BrowserError("invalid_request", _describe(exc.messages)) from None


def _describe(messages: Any) -> str:
    problems = []
    for name in sorted(messages if isinstance(messages, dict) else {}, key=str):
        if name in FIELD_PROBLEMS:
            problems.append(FIELD_PROBLEMS[name])
        else:
            problems.append(f"unknown field {str(name)[:40]!r}: only 'assistant' and 'context' are accepted")
        if len(problems) == 3:
            break
    return ("Invalid request: " + "; ".join(problems) + ".") if problems else "The request is not valid."


# -------------------------------------------------------------------------------------- POST /webhooks


def webhooks() -> Response:
    state = _state()
    # The raw bytes are read before anything else (and only once): the signature covers them exactly.
    body = _read_body(state.settings.webhook_max_bytes)
    if body is None:
        return _json(error_body("payload_too_large"), 413)
    try:
        status, reply = state.handle_webhook(
            body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
        )
    except WebhookSignatureError as exc:
        log.warning("webhook delivery refused from %s: %s", request.remote_addr, exc)
        return _json(error_body("invalid_signature"), 401)
    except WebhookPayloadError as exc:
        log.warning("webhook delivery refused: %s", exc)
        return _json(error_body("invalid_payload"), 400)
    return _json(reply, status)


# ------------------------------------------------------------------------------------ widget and chunks


def widget() -> Response:
    if not (STATIC_DIR / WIDGET_FILE).is_file():
        response = Response(NOT_BUILT_JS, status=503, mimetype="text/javascript")
        response.cache_control.no_store = True
        return response
    return static_file(WIDGET_FILE)


def static_file(filename: str) -> Response:
    immutable = HASHED_NAME.search(filename) is not None
    response = send_from_directory(
        STATIC_DIR, filename, max_age=IMMUTABLE_MAX_AGE if immutable else WIDGET_MAX_AGE, conditional=True
    )
    if immutable:
        response.cache_control.immutable = True
    return response


# ---------------------------------------------------------------------------------------------- errors


def not_found(path: str) -> Response:
    allow = KNOWN_PATHS.get(path) or ("GET, HEAD" if path.startswith("static/") else None)
    # A GET of a static path no file rule matched (``static//etc/passwd``) is not found, not a wrong method.
    if allow is not None and request.method not in allow.split(", "):
        response = _json(error_body("method_not_allowed"), 405)
        response.headers["Allow"] = allow
        return response
    return _json(error_body("not_found"), 404)


def _browser_error(exc: BrowserError) -> Response:
    return _json(exc.body(), exc.status, exc.retry_after)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = HTTP_ERROR_CODES.get(status) or ("internal_error" if status >= 500 else "invalid_request")
    response = _json(error_body(code), status)
    valid_methods = getattr(exc, "valid_methods", None)
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(valid_methods)
    return response


def _unexpected_error(exc: Exception) -> Response:
    log.exception("unexpected error in %s %s", request.method, request.path)
    return _json(error_body("internal_error"), 500)


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    widget_file = request.endpoint in (f"{EXTENSION_KEY}.static_file", f"{EXTENSION_KEY}.widget")
    # Errors too: a 404 is cacheable by default, and a chunk missing during a deploy must not stay missing.
    if not widget_file or response.status_code >= 400:
        # Tokens and errors are per visitor and per moment: no cache may keep them.
        response.headers["Cache-Control"] = "no-store"
    if request.endpoint == f"{EXTENSION_KEY}.web_calls":
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin is not None and response.status_code != 403 and _allowed_origin(_state(), origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            # A page on another origin can read only the headers listed here; the widget shows the wait.
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response
