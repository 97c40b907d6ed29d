"""The blueprint under ``HMS_URL_PREFIX``: its routes, each reading ``flask.request`` and shaping the answer.

What the answers look like when something goes wrong is ``_responses.py``'s; which pages may call is
``_cors.py``'s; reading and checking a body is ``_request_body.py``'s.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from . import _actions, _calls, _challenge, _feedback, _page_tools, _targets, _webhooks
from ._callers import identify
from ._cors import browser_origin
from ._popout import popout_response
from ._request_body import parsed_body, read_body
from ._responses import add_catch_all, json_for_untrusted_hosts, json_response, register_error_handlers
from ._state import EXTENSION_KEY, current_state
from ._static import WIDGET_FILE, static_file, widget
from .errors import BrowserError, WebhookPayloadError, WebhookSignatureError, error_body
from .hms import SIGNATURE_HEADER, TIMESTAMP_HEADER
from .schemas import FEEDBACK_SCHEMA, WEB_CALL_REQUEST_SCHEMA

__all__ = ["create_blueprint", "webhooks"]

log = logging.getLogger("flask_hms_webcall")


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
        "/web-calls/<call_id>/tools/<request_id>",
        "page_tool_answer",
        page_tool_answer,
        methods=["POST", "OPTIONS"],
        provide_automatic_options=False,
    )
    bp.add_url_rule(
        "/web-calls/<call_id>/targets",
        "targets",
        targets,
        methods=["POST", "OPTIONS"],
        provide_automatic_options=False,
    )
    bp.add_url_rule(
        "/challenge", "challenge", challenge, methods=["GET", "OPTIONS"], provide_automatic_options=False
    )
    bp.add_url_rule("/webhooks", "webhooks", webhooks, methods=["POST"])
    bp.add_url_rule("/call", "popout", popout, methods=["GET"])
    bp.add_url_rule("/" + WIDGET_FILE, "widget", widget, methods=["GET"])
    bp.add_url_rule("/static/<path:filename>", "static_file", static_file, methods=["GET"])
    bp.record(add_catch_all)
    bp.record(json_for_untrusted_hosts)
    register_error_handlers(bp)
    return bp


def web_calls() -> Response:
    state = current_state()
    preflight = browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    data, problem = parsed_body(
        WEB_CALL_REQUEST_SCHEMA, allowed="'assistant', 'context', 'challenge', 'consent'"
    )
    if data is not None:
        # Asking for a challenge costs the visitor no attempt: the solution comes back in the next request.
        _challenge.require_challenge(state, caller, data)
    state.rate_limiter.hit(caller.key)
    if problem is not None:
        raise problem
    return json_response(_calls.create_call(state, caller, data or {}), 201)


def challenge() -> Response:
    """A challenge to solve before the create, so the widget can solve it while the microphone prompt is up;
    ``{"challenge": null}`` when this caller needs none (or the site's own verifier is used)."""
    state = current_state()
    preflight = browser_origin(state, "GET")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    needed = _challenge.challenge_needed(state, caller)
    body = {"challenge": _challenge.new_challenge(state) if needed else None, "required": needed}
    return json_response(body, 200)


def feedback(call_id: str) -> Response:
    state = current_state()
    preflight = browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    data, problem = parsed_body(FEEDBACK_SCHEMA, allowed="'rating' and 'comment'", empty_ok=False)
    if problem is not None or data is None:
        raise problem or BrowserError("invalid_request")
    _feedback.submit_feedback(state, caller, call_id, data, request.headers.get(_feedback.TOKEN_HEADER))
    return Response(status=204)


def actions(call_id: str) -> Response:  # the call's page actions, as Server-Sent Events
    state = current_state()
    browser_origin(state, "GET")
    caller = identify(state, request.remote_addr)
    token, last_id = request.args.get("token"), request.headers.get("Last-Event-ID")
    events = _actions.open_stream(state, caller, call_id, token, last_id)
    return Response(events, mimetype="text/event-stream", headers=_actions.STREAM_HEADERS)


def page_tool_answer(call_id: str, request_id: str) -> Response:  # the page's answer to a page tool
    state = current_state()
    preflight = browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    token = request.headers.get(_page_tools.TOKEN_HEADER)
    body = read_body(state.settings.page_action_max_bytes)
    _page_tools.take_answer(state, caller, call_id, request_id, token, body)
    return Response(status=204)


def targets(call_id: str) -> Response:  # the targets of the page the call runs in (_targets.py)
    state = current_state()
    preflight = browser_origin(state, "POST")
    if preflight is not None:
        return preflight
    caller = identify(state, request.remote_addr)
    body = read_body(_targets.MAX_REPORT_BYTES)
    if body is None:
        raise BrowserError("invalid_request", "The request body is too large.")
    _targets.report_targets(state, caller, call_id, request.args.get("token"), body)
    return Response(status=204)


def webhooks() -> Response:
    state = current_state()
    # The raw bytes are read before anything else (and only once): the signature covers them exactly.
    body = read_body(state.settings.webhook_max_bytes)
    if body is None:
        return json_response(error_body("payload_too_large"), 413)
    try:
        status, reply = _webhooks.handle_webhook(
            state, body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
        )
    except WebhookSignatureError as exc:
        log.warning("webhook delivery refused from %s: %s", request.remote_addr, exc)
        return json_response(error_body("invalid_signature"), 401)
    except WebhookPayloadError as exc:
        log.warning("webhook delivery refused: %s", exc)
        return json_response(error_body("invalid_payload"), 400)
    return json_response(reply, status)


def popout() -> Response:  # the small window a call continues in (the widget's ``popout`` attribute)
    settings = current_state().settings
    return popout_response(settings.url_prefix, settings.allowed_origins, request.accept_languages)
