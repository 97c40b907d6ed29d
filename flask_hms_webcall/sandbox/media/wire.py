"""LiveKit signalling on one websocket: the requests read from it (protobuf, or the JSON some clients send)
and the responses written to it, one at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

from aiohttp import WSMsgType, web
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from .room import final_leave

__all__ = ["ProtocolError", "SignalWire"]


class ProtocolError(Exception):
    """The browser sent something that is not LiveKit signalling; the session ends."""


class SignalWire:
    """The websocket of one signalling session, as LiveKit signal requests in and responses out."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self._send_lock = asyncio.Lock()

    async def requests(self) -> AsyncGenerator[rtc.SignalRequest, None]:
        """Each request until the websocket closes; :class:`ProtocolError` on one that does not decode."""
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                try:
                    request = rtc.SignalRequest.FromString(message.data)
                except DecodeError as exc:
                    raise ProtocolError(f"undecodable signal request: {exc}") from None
            elif message.type == WSMsgType.TEXT:
                try:
                    request = json_format.Parse(message.data, rtc.SignalRequest(), ignore_unknown_fields=True)
                except (json_format.ParseError, ValueError) as exc:
                    raise ProtocolError(f"undecodable JSON signal request: {exc}") from None
            else:
                return
            yield request
            if self.ws.closed:  # the request closed the session (a leave)
                return

    async def send(self, **message: Any) -> None:
        """One ``SignalResponse`` with ``message``'s field; nothing once the websocket is closed."""
        if self.ws.closed:
            return
        payload = rtc.SignalResponse(**message).SerializeToString()
        async with self._send_lock:
            await self.ws.send_bytes(payload)

    async def send_leave(self, reason: models.DisconnectReason) -> None:
        """The last word to the browser; it may be gone already."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send(leave=final_leave(reason))
