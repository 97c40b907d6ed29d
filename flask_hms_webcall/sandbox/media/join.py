"""Who may join which room: the access token, the call behind it, and the ``join_request`` query parameter.

Refusals happen before the websocket upgrade, as plain HTTP answers. livekit-client never shows the body of
a failed upgrade; it asks ``<path>/validate`` with the same query and reports that answer instead
(401/403 → "not allowed: <text>", 404 + "requested room does not exist" → not allowed as well), so both
endpoints must give the same status and text.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from google.protobuf.message import DecodeError
from livekit.protocol import rtc

from ..calls import Call, CallRegistry
from ..tokens import Grant, TokenAuthority, TokenRejected

ROOM_GONE = "requested room does not exist"
ALREADY_JOINED = "participant is already in the room"
# A gzip'd offer is a few KiB; anything this big is not a join request.
_MAX_JOIN_REQUEST = 256 * 1024


class JoinRefused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.reason)


@dataclass(frozen=True)
class Admission:
    call: Call
    grant: Grant


def request_token(request: web.Request) -> str | None:
    """The token from ``?access_token=`` (browsers) or ``Authorization: Bearer`` (the Rust/Python SDKs)."""
    token = request.query.get("access_token")
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def check_token(tokens: TokenAuthority, token: str | None) -> Grant:
    try:
        return tokens.verify(token)
    except TokenRejected as exc:
        raise JoinRefused(401, str(exc)) from None


def admit(
    tokens: TokenAuthority,
    registry: CallRegistry,
    token: str | None,
    *,
    occupied: Callable[[Call], bool] = lambda call: False,
) -> Admission:
    """Check ``token`` and find its live call, or raise :class:`JoinRefused` with the status to answer.

    ``occupied(call)`` says whether a browser is in the call's room already: one browser per call.
    """
    grant = check_token(tokens, token)
    call = registry.by_room(grant.room)
    if call is None or not call.active:
        raise JoinRefused(404, ROOM_GONE)
    if occupied(call):
        raise JoinRefused(403, ALREADY_JOINED)
    return Admission(call=call, grant=grant)


def parse_join_request(value: str) -> rtc.JoinRequest:
    """Decode ``join_request``: base64url of a ``WrappedJoinRequest``, its payload optionally gzip'd.

    Raises ``ValueError`` for anything malformed.
    """
    if len(value) > _MAX_JOIN_REQUEST * 2:
        raise ValueError("join_request is too large")
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
        wrapped = rtc.WrappedJoinRequest.FromString(raw)
    except (binascii.Error, ValueError, DecodeError) as exc:
        raise ValueError(f"join_request is not a WrappedJoinRequest: {exc}") from None
    body = wrapped.join_request
    if wrapped.compression == rtc.WrappedJoinRequest.Compression.GZIP:
        body = _gunzip(body)
    elif wrapped.compression != rtc.WrappedJoinRequest.Compression.NONE:
        raise ValueError("join_request uses an unknown compression")
    try:
        return rtc.JoinRequest.FromString(body)
    except DecodeError as exc:
        raise ValueError(f"join_request does not hold a JoinRequest: {exc}") from None


def _gunzip(data: bytes) -> bytes:
    # Bounded, so a small "gzip bomb" cannot make the server allocate gigabytes.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, _MAX_JOIN_REQUEST)
    except zlib.error as exc:
        raise ValueError(f"join_request is not valid gzip: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError("join_request is too large")
    return out
