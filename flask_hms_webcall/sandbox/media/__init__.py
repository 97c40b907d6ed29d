"""The sandbox's media face: enough of LiveKit's signalling and WebRTC for the unmodified livekit-client to
join a call's room, hear a scripted assistant, publish its microphone and receive ``lk.transcription``
streams. Built on aiohttp websockets, aiortc and the ``livekit-protocol`` message classes.
"""

from __future__ import annotations

import logging

from aiohttp import web

from .hub import HUB, MediaHub
from .routes import alive_handler, rtc_handler, validate_handler

__all__ = ["add_routes"]


def add_routes(app: web.Application) -> None:
    """Register ``/rtc``, ``/rtc/v1`` (websockets) and their ``/validate`` endpoints on the sandbox app.

    Needs ``app["config"]``, ``app["registry"]`` and ``app["tokens"]`` (and reads ``app["faults"]`` if
    present) by the time a browser connects. On shutdown every session is closed, with its peer connections.
    """
    for name in ("aioice", "aiortc"):
        # Their INFO lines (every ICE check) drown the sandbox's own; warnings still come through.
        if logging.getLogger(name).level == logging.NOTSET:
            logging.getLogger(name).setLevel(logging.WARNING)
    hub = MediaHub(app)
    app[HUB] = hub
    app.router.add_get("/", alive_handler)  # HEAD too
    app.router.add_get("/rtc/v1/validate", validate_handler)
    app.router.add_get("/rtc/validate", validate_handler)
    app.router.add_get("/rtc/v1", rtc_handler)
    app.router.add_get("/rtc", rtc_handler)

    async def close_sessions(_app: web.Application) -> None:
        await hub.close()

    app.on_shutdown.append(close_sessions)
