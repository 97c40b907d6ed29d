"""Proof of work before a call is created (ALTCHA), or the site's own verifier (Turnstile, hCaptcha...).

ALTCHA: the server hands out ``{algorithm, challenge, maxnumber, salt, signature}``, where ``challenge`` is
SHA-256(salt + n) for a secret random ``n`` ≤ ``maxnumber`` and ``signature`` is its HMAC under a key only the
server has. The browser finds ``n`` by trying numbers (on average maxnumber/2 hashes) and sends back
base64(JSON) of the challenge with ``number``. The server checks the hash, the signature and the expiry in
the salt, and accepts each issued challenge once, however its solution is spelt (the spent challenges are
remembered in the store until they expire, so a replay to another worker is refused too). Nothing leaves
the site: no third party is contacted.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from typing import Any

from altcha.v1 import ChallengeOptions, Payload, create_challenge, verify_solution

from ._callers import Caller
from ._state import WebCallState
from .errors import BrowserError
from .store import StoreError

__all__ = [
    "challenge_needed",
    "new_challenge",
    "require_challenge",
    "verify_challenge",
]

log = logging.getLogger("flask_hms_webcall")


def challenge_needed(state: WebCallState, caller: Caller) -> bool:
    """Whether ``caller`` must send a challenge solution (or a verifier's token) with a create."""
    settings = state.settings
    if settings.challenge is None and state.hooks.challenge_verifier is None:
        return False
    return settings.challenge_for == "everyone" or caller.anonymous


def new_challenge(state: WebCallState) -> dict[str, Any] | None:
    """A fresh ALTCHA challenge as JSON, or ``None`` when the site's own verifier is used instead."""
    if state.hooks.challenge_verifier is not None:
        return None
    settings = state.settings
    expires = datetime.fromtimestamp(state.clock() + settings.challenge_ttl, timezone.utc)
    options = ChallengeOptions(
        algorithm="SHA-256",
        max_number=settings.challenge_complexity,
        hmac_key=settings.challenge_key,
        expires=expires,
    )
    data: dict[str, Any] = create_challenge(options).to_dict()
    # ALTCHA's wire format spells it "maxnumber" (the library's dict says "maxNumber").
    data["maxnumber"] = data.pop("maxNumber")
    return data


def require_challenge(state: WebCallState, caller: Caller, data: dict[str, Any]) -> None:
    """``401 challenge_required`` (with a challenge to solve) when one is needed and the body has none."""
    if challenge_needed(state, caller) and not data.get("challenge"):
        raise BrowserError("challenge_required", extra={"challenge": new_challenge(state)})


def verify_challenge(state: WebCallState, caller: Caller, data: dict[str, Any]) -> None:
    """Check and spend the body's solution; ``403 challenge_failed`` when wrong, expired or used before.

    What is spent is what the solution proves, not its text: for ALTCHA the issued challenge it solves (so
    a re-encoded solution, keys reordered, the number as a string, the salt without its ``&``, is the same
    one, spent once); for the site's own verifier the token exactly as submitted.
    """
    if not challenge_needed(state, caller):
        return
    # The view ran require_challenge before the rate limit, so a create that needs a solution has one.
    solution: str = data.get("challenge") or ""
    verifier = state.hooks.challenge_verifier
    if verifier is not None:
        proof = "challenge:" + hashlib.sha256(solution.encode()).hexdigest() if verifier(solution) else None
    else:
        proof = _altcha_proof(state, solution)
    if proof is None:
        raise BrowserError("challenge_failed")
    try:
        first_use = state.store.spend_once(proof, ttl=state.settings.challenge_ttl + 60)
    except StoreError:
        log.exception("the call store failed while checking a challenge")
        raise BrowserError("unavailable") from None
    if not first_use:
        raise BrowserError("challenge_failed")


def _altcha_proof(state: WebCallState, solution: str) -> str | None:
    """The spent-record key of the issued challenge ``solution`` solves, or ``None`` when it solves none."""
    try:
        ok, _reason = verify_solution(solution, state.settings.challenge_key, check_expires=False)
        payload = Payload.from_base64(solution) if ok else None
        # The salt is read only once the hash binds it (and the number) to the signed challenge.
        expires = payload.parse_salt()[1] if payload is not None else None
    except Exception:  # any malformed payload is simply a wrong one
        return None
    if expires is None or payload is None:
        return None
    # Expiry against the app's clock (injectable in tests), and never later than the configured TTL.
    now = state.clock()
    if not now <= expires <= now + state.settings.challenge_ttl + 5:
        return None
    # The signature covers the challenge, and the hash check tied salt and number to it, so the challenge is
    # the one thing every spelling of this solution shares (it is the hash's lower-case hex already).
    return "challenge:altcha:" + str(payload.challenge).lower()
