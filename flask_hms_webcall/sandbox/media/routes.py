"""The media face's HTTP routes: ``/rtc[/v1]`` (the signalling websocket, one :class:`SignalSession` per
browser) and ``/rtc[/v1]/validate`` (why a join was refused)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from livekit.protocol import models, rtc

from ..calls import Call
from .hub import HUB, MediaHub
from .join import JoinRefused, admit, check_token, parse_join_request, request_token
from .peer import use_loopback_ice
from .presence import CallRoom
from .room import final_leave
from .signalling import SignalSession

__all__ = ["alive_handler", "rtc_handler", "validate_handler"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")

MAX_MESSAGE_BYTES = 1024 * 1024


async def alive_handler(request: web.Request) -> web.Response:
    """``GET``/``HEAD /``: livekit-client asks this when the browser comes back online, and reconnects at
    once only if it answers (from the page's origin, hence the CORS header), as LiveKit's server does."""
    return web.Response(text="OK", headers={"Access-Control-Allow-Origin": "*"})


async def validate_handler(request: web.Request) -> web.Response:
    """``GET /rtc[/v1]/validate``: what livekit-client asks after a failed upgrade, to explain it."""
    hub = request.app[HUB]
    try:
        admit(hub.tokens, hub.registry, request_token(request), occupied=hub.occupied)
        response = web.Response(text="success")
    except JoinRefused as refused:
        response = refused.response()
    # The page joining is served from another origin (the site's); without this its fetch() of the
    # answer fails and livekit-client reports "server unreachable" instead of the reason.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def rtc_handler(request: web.Request) -> web.StreamResponse:
    """``GET /rtc`` and ``GET /rtc/v1``: the signalling websocket."""
    hub = request.app[HUB]
    v0 = not request.path.rstrip("/").endswith("/v1")
    join: rtc.JoinRequest | None = None
    if not v0:
        try:
            join = parse_join_request(request.query.get("join_request", ""))
        except ValueError as exc:
            log.warning("refused a join: %s", exc)
            return web.Response(status=400, text="malformed join_request")
    resume = join.reconnect if join is not None else request.query.get("reconnect") in ("1", "true")
    try:
        if hub.closing:
            raise JoinRefused(503, "server is shutting down")
        if resume:
            resumed = hub.registry.by_room(check_token(hub.tokens, request_token(request)).room)
        else:
            admission = admit(hub.tokens, hub.registry, request_token(request), occupied=hub.occupied)
    except JoinRefused as refused:
        log.info("refused a join on %s: %s %s", request.path, refused.status, refused.reason)
        return refused.response()

    ws = web.WebSocketResponse(heartbeat=15.0, max_msg_size=MAX_MESSAGE_BYTES)
    if resume:
        await ws.prepare(request)
        await _refuse_resume(hub, ws, resumed)
        return ws
    call, grant = admission.call, admission.grant

    if hub.config.loopback_only:
        use_loopback_ice()  # in this handler's context, i.e. for every peer connection of this session
    room = hub.rooms.get(call.call_id)
    if room is None:
        room = hub.rooms[call.call_id] = CallRoom(hub, call)
    session = SignalSession(hub, ws, call, grant.identity, join=join, v0=v0, room=room)
    room.attach(session)  # before the first await: a second join now finds the room taken
    try:
        await ws.prepare(request)
    except BaseException:
        await session.close()
        room.depart(session)
        raise
    await session.run()
    return ws


async def _refuse_resume(hub: MediaHub, ws: web.WebSocketResponse, call: Call | None) -> None:
    """A resume needs an ICE restart, which aiortc cannot do: ask for a full reconnect instead.

    livekit-client answers a ``leave`` to its resume by joining again with the same token, which finds the
    call's room waiting (see .presence). A call that is over gets a final ``leave``.
    """
    if call is None or not call.active:
        log.info("refused a resume attempt: the call is over")
        leave = final_leave(models.DisconnectReason.ROOM_DELETED)
    else:
        log.info("call %s: a resume attempt; asking for a full reconnect", call.call_id)
        leave = rtc.LeaveRequest(
            action=rtc.LeaveRequest.Action.RECONNECT,
            reason=models.DisconnectReason.STATE_MISMATCH,
            can_reconnect=True,
        )
    # The browser has given up its old connection, which the server may not have noticed yet: its room
    # now waits for the rejoin. Shielded: aiohttp cancels this handler if the browser goes meanwhile.
    room = hub.rooms.get(call.call_id) if call is not None else None
    if room is not None and room.session is not None:
        await asyncio.shield(room.session.drop())
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_bytes(rtc.SignalResponse(leave=leave).SerializeToString())
    await ws.close()
