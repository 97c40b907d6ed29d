"""Who created a call: a signed-in member by their identity, an anonymous visitor by a token.

The create response hands an anonymous creator one token per purpose (rating the call, following its page
actions, ...): an HMAC of the call id under a key derived from the API key and the purpose, so every worker
can check it without storing anything, nobody without the key can make one, and a token leaked for one
purpose is worthless for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ._callers import Caller
from ._state import WebCallState

__all__ = ["creator_token", "holds_token", "is_creator"]


def creator_token(state: WebCallState, call_id: str, purpose: str) -> str:
    """A token proving that an anonymous visitor created ``call_id``, good for ``purpose`` only."""
    label = f"flask-hms-webcall {purpose}".encode()
    key = hmac.new(state.settings.api_key.encode(), label, hashlib.sha256).digest()
    digest = hmac.new(key, call_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_creator(caller: Caller, owner: str, token: str | None, expected: str) -> bool:
    """Whether ``caller`` made the call ``owner`` (its store record) made: the same signed-in user, or an
    anonymous visitor holding ``expected``, the call's token for this purpose. A user's call never yields
    to a token."""
    if not caller.anonymous:
        return owner == caller.key
    return not owner.startswith("user:") and holds_token(token, expected)


def holds_token(token: str | None, expected: str) -> bool:
    """Whether ``token`` is ``expected``, compared in constant time; no token holds nothing."""
    if not token:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())
