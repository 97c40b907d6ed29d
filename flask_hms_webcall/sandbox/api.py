"""The HMS API face: ``POST /v1/web-calls``, as the Web Calls page describes it.

Checks run in this order, each answering ``{"detail": "..."}``: the Bearer key (401), the body (400: not
JSON, not an object, nested absurdly deep), the configuration rules (400 / 403, see ``assistants.py``), the
credit balance (402), the org's concurrent calls (429), then the session itself (500 when the
``fail_next_creates`` fault is armed). Every request that passes the key check is counted in
``create_requests``, whatever its answer.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web

from ..hms import WEB_CALLS_PATH
from .assistants import RequestRejected, resolve
from .calls import CallRegistry, ConcurrencyLimitReached
from .config import SandboxConfig
from .faults import Faults
from .tokens import TokenAuthority

log = logging.getLogger("flask_hms_webcall.sandbox.api")

INVALID_API_KEY = "Invalid API key"
INSUFFICIENT_CREDITS = "Insufficient credits to start web call"
TOO_MANY_CALLS = "Maximum 3 concurrent web calls per organization"
CREATE_FAILED = "Failed to create web call session: "
NOT_AN_OBJECT = "Request body must be a JSON object"
MAX_DEPTH = 64


def error(status: int, detail: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status)


def authorized(request: web.Request, api_key: str) -> bool:
    """True when the request carries ``Authorization: Bearer <the org key>``."""
    scheme, _, presented = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # surrogateescape: header bytes that are not UTF-8 must compare unequal, not raise.
    return hmac.compare_digest(presented.strip().encode("utf-8", "surrogateescape"), api_key.encode())


def _too_deep(value: Any) -> bool:
    # Iterative, so a hostile body cannot exhaust the stack here or when a webhook re-serialises it.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _read_body(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestRejected(413, "Request body too large") from None
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RequestRejected(400, NOT_AN_OBJECT) from None
    if not isinstance(body, dict):
        raise RequestRejected(400, NOT_AN_OBJECT)
    if _too_deep(body):
        raise RequestRejected(400, "Request body is nested too deeply")
    return body


async def create_web_call(request: web.Request) -> web.Response:
    config: SandboxConfig = request.app["config"]
    registry: CallRegistry = request.app["registry"]
    tokens: TokenAuthority = request.app["tokens"]
    faults: Faults = request.app["faults"]

    if not authorized(request, config.api_key):
        log.info("create refused: invalid API key")
        return error(401, INVALID_API_KEY)
    registry.create_requests += 1
    try:
        resolved = resolve(await _read_body(request), request.app["assistants"])
    except RequestRejected as rejected:
        log.info("create refused (%s): %s", rejected.status, rejected.detail)
        return error(rejected.status, rejected.detail)
    if registry.out_of_credits:
        log.info("create refused: the credit balance is spent")
        return error(402, INSUFFICIENT_CREDITS)
    if registry.at_capacity:
        log.info("create refused: %d calls already active", len(registry.active_calls()))
        return error(429, TOO_MANY_CALLS)
    if faults.take("fail_next_creates"):
        log.info("create failed on purpose (fault fail_next_creates)")
        return error(500, CREATE_FAILED + "sandbox fault injected (fail_next_creates)")
    try:
        call = registry.create(resolved.assistant, assistant_id=resolved.assistant_id, mode=resolved.mode)
    except ConcurrencyLimitReached:
        return error(429, TOO_MANY_CALLS)
    # An expired-on-issue token lets clients test what happens when a browser joins too late.
    ttl = -1 if faults.take("expire_next_tokens") else config.token_ttl
    token = tokens.mint(identity=call.identity, room=call.room_name, ttl=ttl)
    return web.json_response(
        {
            "success": True,
            "call_id": call.call_id,
            "room_name": call.room_name,
            "token": token,
            "server_url": server_url(request, config),
        }
    )


def server_url(request: web.Request, config: SandboxConfig) -> str:
    """``ws://`` to this very server (the sandbox has no TLS; real HMS always answers ``wss://``)."""
    if config.host in ("", "0.0.0.0", "::"):  # noqa: S104 - comparing, not binding
        return f"ws://{request.host}"
    return config.server_url


def add_routes(app: web.Application) -> None:
    app.router.add_post(WEB_CALLS_PATH, create_web_call)
