"""LiveKit-style access tokens: minted by the API face, checked by the media face when a browser joins."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


class TokenRejected(Exception):
    """The join token is missing, forged, for another room, or expired. ``str()`` is the reason."""


@dataclass(frozen=True)
class Grant:
    identity: str
    room: str
    expires_at: int


class TokenAuthority:
    """Holds the sandbox's LiveKit API key pair (random per run) and signs and checks join tokens."""

    def __init__(self, api_key: str | None = None, api_secret: str | None = None) -> None:
        self.api_key = api_key or "APIsandbox" + secrets.token_hex(4)
        self.api_secret = api_secret or secrets.token_urlsafe(32)

    def mint(self, *, identity: str, room: str, ttl: float, name: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.api_key,
            "sub": identity,
            "name": name or identity,
            "nbf": now - 1,
            "exp": now + int(ttl),
            "jti": identity,
            "video": {
                "room": room,
                "roomJoin": True,
                "canPublish": True,
                "canSubscribe": True,
                "canPublishData": True,
            },
        }
        return jwt.encode(claims, self.api_secret, algorithm=ALGORITHM)

    def verify(self, token: str | None) -> Grant:
        if not token:
            raise TokenRejected("no access token")
        try:
            claims = jwt.decode(
                token,
                self.api_secret,
                algorithms=[ALGORITHM],
                issuer=self.api_key,
                leeway=0,
                options={"require": ["exp", "sub", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("invalid token: token is expired") from None
        except jwt.PyJWTError:
            raise TokenRejected("invalid token: could not verify") from None
        video = claims.get("video") or {}
        if not video.get("roomJoin") or not isinstance(video.get("room"), str):
            raise TokenRejected("invalid token: no room join grant")
        return Grant(identity=str(claims["sub"]), room=video["room"], expires_at=int(claims["exp"]))
