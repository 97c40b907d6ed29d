"""The blueprint under ``HMS_URL_PREFIX``: routes that read ``flask.request`` and shape the answer.

Every answer under the prefix is JSON in the documented error shape when something goes wrong (a 404, a
405, a body too large, a bug in a hook): never an HTML page, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.routing import PathConverter, Rule
from werkzeug.wsgi import get_content_length

from . import _actions, _calls, _challenge, _feedback, _webhooks, signals
from ._callers import Caller, identify
from ._origins import allowed_origin, warn_open_origin
from ._popout import popout_response
from ._state import EXTENSION_KEY, WebCallState, current_app_object, current_state
from ._static import WIDGET_FILE, static_file, widget
from .errors import BrowserError, WebhookPayloadError, WebhookSignatureError, error_body
from .hms import SIGNATURE_HEADER, TIMESTAMP_HEADER
from .schemas import (
    FEEDBACK_SCHEMA,
    MAX_CHALLENGE_LENGTH,
    MAX_COMMENT_LENGTH,
    MAX_CONSENT_LENGTH,
    MAX_CONTEXT_ENTRIES,
    MAX_CONTEXT_VALUE_LENGTH,
    WEB_CALL_REQUEST_SCHEMA,
)

__all__ = ["create_blueprint", "webhooks"]

log = logging.getLogger("flask_hms_webcall")

MAX_REQUEST_BYTES = 8 * 1024
PREFLIGHT_MAX_AGE = 600
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
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
# Routes a browser page calls, possibly from another allowed origin: CORS applies to these.
BROWSER_ENDPOINTS = frozenset(
    f"{EXTENSION_KEY}.{n}" for n in ("web_calls", "challenge", "feedback", "actions")
)

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
    "challenge": f"challenge must be text of 1-{MAX_CHALLENGE_LENGTH} characters",
    "consent": f"consent must be the accepted consent version, 1-{MAX_CONSENT_LENGTH} characters",
    "rating": "rating must be 'up' or 'down'",
    "comment": f"comment must be text of at most {MAX_COMMENT_LENGTH} characters",
}


def create_blueprint(url_prefix: str) -> Blueprint:
    bp = Blueprint(EXTENSION_KEY, __name__, url_prefix=url_prefix)
    bp.add_url_rule(
        "/web-calls", "web_calls", web_calls, methods=["POST", "OPTIONS"], provide_automatic_options=False
    )
    bp.add_url_rule(
        "/web-calls/<call_id>/feedback",
        "feedback",
        feedback,
        methods=["POST", "OPTIONS"],
        provide_automatic_options=False,
    )
    bp.add_url_rule("/web-calls/<call_id>/actions", "actions", actions, methods=["GET"])
    bp.add_url_rule(
        "/challenge", "challenge", challenge, methods=["GET", "OPTIONS"], provide_automatic_options=False
    )
    bp.add_url_rule("/webhooks", "webhooks", webhooks, methods=["POST"])
    bp.add_url_rule("/call", "popout", popout, methods=["GET"])
    bp.add_url_rule("/" + WIDGET_FILE, "widget", widget, methods=["GET"])
    bp.add_url_rule("/static/<path:filename>", "static_file", static_file, methods=["GET"])
    bp.record(_add_catch_all)
    bp.record(_json_for_untrusted_hosts)
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
    # blueprint is known, and gets Werkzeug's HTML page instead of the JSON error: so any method (None:
    # TRACE, PROPFIND, ...), any characters, and the bare prefix (strict slashes redirect to the Host).
    endpoint = f"{state.name_prefix}.{state.name}.not_found".lstrip(".")
    prefix = (state.url_prefix or "").rstrip("/")
    state.app.url_map.converters.setdefault("hms_any_path", _AnyPath)
    state.app.view_functions[endpoint] = not_found
    state.app.url_map.add(Rule(prefix + "/", endpoint=endpoint, methods=None, strict_slashes=False))
    state.app.url_map.add(Rule(prefix + "/<hms_any_path:path>", endpoint=endpoint, methods=None))


def _json_for_untrusted_hosts(state: BlueprintSetupState) -> None:
    # A Host outside TRUSTED_HOSTS is refused while the request is set up, before the blueprint is known,
    # so only an app-wide handler sees it: JSON under the prefix, the app's usual page elsewhere.
    prefix = (state.url_prefix or "").rstrip("/")

    def untrusted_host(exc: SecurityError) -> Any:
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return _json(error_body("invalid_request"), 400)
        return exc

    state.app.register_error_handler(SecurityError, untrusted_host)


def _json(body: dict[str, Any], status: int, retry_after: int | None = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


# ------------------------------------------------------------------------------------- POST /web-calls


def web_calls() -> Response:
    state = current_state()
    preflight = _browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    data, problem = _parsed_body(
        WEB_CALL_REQUEST_SCHEMA, allowed="'assistant', 'context', 'challenge', 'consent'"
    )
    if data is not None:
        # Asking for a challenge costs the visitor no attempt: the solution comes back in the next request.
        _challenge.require_challenge(state, caller, data)
    state.rate_limiter.hit(caller.key)
    if problem is not None:
        raise problem
    return _json(_calls.create_call(state, caller, data or {}), 201)


def challenge() -> Response:
    """A challenge to solve before the create, so the widget can solve it while the microphone prompt is up;
    ``{"challenge": null}`` when this caller needs none (or the site's own verifier is used)."""
    state = current_state()
    preflight = _browser_origin(state, "GET")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    needed = _challenge.challenge_needed(state, caller)
    return _json({"challenge": _challenge.new_challenge(state) if needed else None, "required": needed}, 200)


def feedback(call_id: str) -> Response:
    state = current_state()
    preflight = _browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    data, problem = _parsed_body(FEEDBACK_SCHEMA, allowed="'rating' and 'comment'", empty_ok=False)
    if problem is not None or data is None:
        raise problem or BrowserError("invalid_request")
    _feedback.submit_feedback(state, caller, call_id, data, request.headers.get(_feedback.TOKEN_HEADER))
    return Response(status=204)


def actions(call_id: str) -> Response:  # the call's page actions, as Server-Sent Events
    state = current_state()
    _browser_origin(state, "GET")
    caller = identify(state, request.remote_addr)
    token, last_id = request.args.get("token"), request.headers.get("Last-Event-ID")
    events = _actions.open_stream(state, caller, call_id, token, last_id)
    return Response(events, mimetype="text/event-stream", headers=_actions.STREAM_HEADERS)


def _browser_origin(state: WebCallState, method: str) -> Response | None:
    """Refuse pages of other sites; answer a CORS preflight (the response to return), else ``None``."""
    origin = request.headers.get("Origin")
    # Browsers send Origin on every cross-site POST, so an unknown one is someone else's page spending our
    # credits with the visitor's cookies. No Origin at all is not a browser, and is judged like any client.
    if origin is not None and _allowed_origin(state, origin) is None:
        raise BrowserError("forbidden_origin")
    if request.method != "OPTIONS":
        return None
    response = Response(status=204)
    if origin is not None:
        response.headers["Access-Control-Allow-Methods"] = method
        response.headers["Access-Control-Allow-Headers"] = _requested_headers()
        response.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
    else:
        response.headers["Allow"] = f"{method}, OPTIONS"
    return response


def _read_body(limit: int) -> bytes | None:
    """The raw request body, or ``None`` when it is longer than ``limit`` bytes. A declared length over the
    limit is refused unread; a streamed body (no Content-Length) is read no further than the limit."""
    length = get_content_length(request.environ)  # as request.content_length, without its header lookups
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
        if size == length:
            break  # all of the declared length: asking the stream again would only hear that it ended
    return None if size > limit else b"".join(chunks)  # one chunk is returned as it is, not copied


def _requested_headers() -> str:
    # The widget may add a CSRF header of the site's choosing; the origin is already vetted, so the headers
    # it asks for are granted when they are plain header names.
    requested = request.headers.get("Access-Control-Request-Headers", "")
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if names and len(names) <= 10 and all(HEADER_NAME.match(name) for name in names):
        return ", ".join(dict.fromkeys(["Content-Type", *names]))
    return "Content-Type"


def _allowed_origin(state: WebCallState, origin: str) -> str | None:
    warn_open_origin(current_app_object(), request.host)
    return allowed_origin(
        origin,
        state.settings.allowed_origins,
        scheme=request.scheme,
        host_url=request.host_url,
        config=current_app.config,
    )


def _parsed_body(
    schema: Schema, *, allowed: str, empty_ok: bool = True
) -> tuple[dict[str, Any] | None, BrowserError | None]:
    """The browser's JSON body checked by ``schema`` (an empty body or ``{}``, nothing to check, means all
    defaults when ``empty_ok``), or the error to answer, returned for the caller to decide when it counts."""
    raw = _read_body(MAX_REQUEST_BYTES)
    if raw is None:
        return None, BrowserError("invalid_request", "The request body is too large.")
    if not raw.strip() and empty_ok:
        return {}, None
    if request.mimetype != "application/json":
        return None, BrowserError(
            "invalid_request", "The request body must be JSON (Content-Type application/json)."
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None, BrowserError("invalid_request", "The request body is not valid JSON.")
    if not isinstance(data, dict):
        return None, BrowserError("invalid_request", "The request body must be a JSON object.")
    try:
        return (schema.load(data) if data or not empty_ok else {}), None
    except ValidationError as exc:
        return None, BrowserError("invalid_request", _describe(exc.messages, allowed))


def _describe(messages: Any, allowed: str) -> str:
    problems = []
    for name in sorted(messages if isinstance(messages, dict) else {}, key=str):
        if name in FIELD_PROBLEMS:
            problems.append(FIELD_PROBLEMS[name])
        else:
            problems.append(f"unknown field {str(name)[:40]!r}: only {allowed} are accepted")
        if len(problems) == 3:
            break
    return ("Invalid request: " + "; ".join(problems) + ".") if problems else "The request is not valid."


# -------------------------------------------------------------------------------------- POST /webhooks


def webhooks() -> Response:
    state = current_state()
    # The raw bytes are read before anything else (and only once): the signature covers them exactly.
    body = _read_body(state.settings.webhook_max_bytes)
    if body is None:
        return _json(error_body("payload_too_large"), 413)
    try:
        status, reply = _webhooks.handle_webhook(
            state, body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
        )
    except WebhookSignatureError as exc:
        log.warning("webhook delivery refused from %s: %s", request.remote_addr, exc)
        return _json(error_body("invalid_signature"), 401)
    except WebhookPayloadError as exc:
        log.warning("webhook delivery refused: %s", exc)
        return _json(error_body("invalid_payload"), 400)
    return _json(reply, status)


def popout() -> Response:  # the small window a call continues in (the widget's ``popout`` attribute)
    settings = current_state().settings
    return popout_response(settings.url_prefix, settings.allowed_origins, request.accept_languages)


# ---------------------------------------------------------------------------------------------- errors


def not_found(path: str = "") -> Response:
    allow = KNOWN_PATHS.get(path) or ("GET, HEAD" if path.startswith("static/") else None)
    for pattern, methods in CALL_PATHS.items():
        allow = allow or (methods if pattern.fullmatch(path) else None)
    # A GET of a static path no file rule matched (``static//etc/passwd``) is not found, not a wrong method.
    if allow is not None and request.method not in allow.split(", "):
        response = _json(error_body("method_not_allowed"), 405)
        response.headers["Allow"] = allow
        return response
    return _json(error_body("not_found"), 404)


def _browser_error(exc: BrowserError) -> Response:
    if request.endpoint == f"{EXTENSION_KEY}.web_calls":
        identity = _identity_or_none()
        caller = Caller.of(identity, request.remote_addr, current_state().settings)
        signals.call_refused.send(current_app_object(), code=exc.code, identity=identity, caller=caller.key)
    return _json(exc.body(), exc.status, exc.retry_after)


def _identity_or_none() -> str | None:
    try:
        return current_state().identity()
    except Exception:  # the identity loader itself may be what failed
        return None


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
    response.headers["X-Content-Type-Options"] = "nosniff"  # setdefault raises and catches when it is absent
    widget_file = request.endpoint in (f"{EXTENSION_KEY}.static_file", f"{EXTENSION_KEY}.widget")
    # Errors too: a 404 is cacheable by default, and a chunk missing during a deploy must not stay missing.
    if not widget_file or response.status_code >= 400:
        # Tokens and errors are per visitor and per moment: no cache may keep them.
        response.headers["Cache-Control"] = "no-store"
    if request.endpoint in BROWSER_ENDPOINTS:
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        forbidden = response.status_code == 403 and response.get_json(silent=True) == error_body(
            "forbidden_origin"
        )
        if origin is not None and not forbidden and _allowed_origin(current_state(), origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            # A page on another origin can read only the headers listed here; the widget shows the wait.
            response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response
