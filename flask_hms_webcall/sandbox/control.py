"""Test and debug routes under ``/_sandbox/``: what the sandbox saw, and switches to steer it.

Everything but ``/health`` needs the org API key as a Bearer token, like the API itself. Answers are JSON;
errors are ``{"detail": "..."}``. No route ever shows a webhook secret.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from ..hms import END_REASONS, STATUS_QUEUED, USER_HANGUP
from .api import INVALID_API_KEY, authorized, error
from .calls import Call, CallRegistry
from .faults import Faults, FaultsRejected

_ROLES = ("user", "assistant")


def describe(call: Call) -> dict[str, Any]:
    assistant = dict(call.assistant)
    if assistant.get("webhook_secret"):
        assistant["webhook_secret"] = "********"  # noqa: S105 - a mask, not a password
    return {
        "call_id": call.call_id,
        "room_name": call.room_name,
        "status": call.status,
        "mode": call.mode,
        "assistant_id": call.assistant_id,
        "identity": call.identity,
        "ended_reason": call.ended_reason,
        "error": call.error,
        "created_at": call.created_at,
        "joined_at": call.joined_at,
        "ended_at": call.ended_at,
        "duration_seconds": call.duration_seconds,
        "metadata": call.metadata,
        "transcript": list(call.transcript),
        "assistant": assistant,
    }


@web.middleware
async def require_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    protected = request.path.startswith("/_sandbox/") and request.path != "/_sandbox/health"
    if protected and not authorized(request, request.app["config"].api_key):
        return error(401, INVALID_API_KEY)
    return await handler(request)


async def _json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise web.HTTPBadRequest(reason="Request body must be a JSON object") from None


def _call(request: web.Request) -> Call:
    registry: CallRegistry = request.app["registry"]
    call = registry.get(request.match_info["call_id"])
    if call is None:
        raise web.HTTPNotFound(reason="Call not found")
    return call


async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def list_calls(request: web.Request) -> web.Response:
    return web.json_response([describe(c) for c in request.app["registry"].all_calls()])


async def get_call(request: web.Request) -> web.Response:
    return web.json_response(describe(_call(request)))


async def join_call(request: web.Request) -> web.Response:
    """Act as if the browser joined and the assistant greeted it: for tests without a browser."""
    call = _call(request)
    if call.status != STATUS_QUEUED:
        return error(409, f"Call is {call.status}, not waiting for a participant")
    first_message = call.assistant.get("first_message")
    if isinstance(first_message, str) and first_message:
        call.add_transcript("assistant", first_message)
    await request.app["registry"].joined(call)
    return web.json_response(describe(call))


async def end_call(request: web.Request) -> web.Response:
    """End a call: ``{"reason": <end reason>, "messages": [{"role", "content"}, ...]}`` (both optional).

    ``messages`` are added to the transcript first, as if they had been said during the call.
    """
    call = _call(request)
    body = await _json_body(request)
    if not isinstance(body, dict):
        return error(400, "Request body must be a JSON object")
    reason = body.get("reason", USER_HANGUP)
    if reason not in END_REASONS:
        return error(400, f"reason must be one of: {', '.join(END_REASONS)}")
    messages = body.get("messages", [])
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and m.get("role") in _ROLES and isinstance(m.get("content"), str)
        for m in messages
    ):
        return error(400, 'messages must be a list of {"role": "user"|"assistant", "content": "..."}')
    if not call.active:
        return error(409, "Call has already ended")
    for m in messages:
        call.add_transcript(m["role"], m["content"])
    await request.app["registry"].end(call, reason)
    return web.json_response(describe(call))


async def stats(request: web.Request) -> web.Response:
    registry: CallRegistry = request.app["registry"]
    return web.json_response(
        {
            "create_requests": registry.create_requests,
            "active_calls": len(registry.active_calls()),
            "credits_seconds": registry.credits_seconds,
        }
    )


async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app["faults"].as_dict())


async def set_faults(request: web.Request) -> web.Response:
    faults: Faults = request.app["faults"]
    try:
        faults.update(await _json_body(request))
    except FaultsRejected as exc:
        return error(400, str(exc))
    return web.json_response(faults.as_dict())


async def webhooks(request: web.Request) -> web.Response:
    return web.json_response(request.app["webhooks"].records())


def add_routes(app: web.Application) -> None:
    add = app.router
    add.add_get("/_sandbox/health", health)
    add.add_get("/_sandbox/calls", list_calls)
    add.add_get("/_sandbox/calls/{call_id}", get_call)
    add.add_post("/_sandbox/calls/{call_id}/join", join_call)
    add.add_post("/_sandbox/calls/{call_id}/end", end_call)
    add.add_get("/_sandbox/stats", stats)
    add.add_get("/_sandbox/faults", get_faults)
    add.add_post("/_sandbox/faults", set_faults)
    add.add_get("/_sandbox/webhooks", webhooks)
