"""Which pages may call the browser routes: the Origin check on every request and the CORS answer to it.

A credit-spending route refuses a page of another site outright (``403 forbidden_origin``); a page of an
allowed origin gets its CORS preflight answered and the ``Access-Control-*`` headers on the answer.
"""

from __future__ import annotations

import re

from flask import Response, current_app, request

from ._origins import allowed_origin, warn_open_origin
from ._state import EXTENSION_KEY, WebCallState, current_app_object, current_state
from .errors import BrowserError, error_body

__all__ = ["BROWSER_ENDPOINTS", "add_cors_headers", "browser_origin"]

PREFLIGHT_MAX_AGE = 600
HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# Routes a browser page calls, possibly from another allowed origin: CORS applies to these.
BROWSER_ENDPOINTS = frozenset(
    f"{EXTENSION_KEY}.{n}" for n in ("web_calls", "challenge", "feedback", "actions", "page_tool_answer")
)


def browser_origin(state: WebCallState, method: str) -> Response | None:
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


def add_cors_headers(response: Response) -> None:
    """The CORS headers of an answer of a browser route, for a page of an allowed origin."""
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
