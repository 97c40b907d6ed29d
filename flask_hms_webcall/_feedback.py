"""The visitor's rating of a call: accepted once per call, within a day, only from whoever created it; a
comment may follow the rating once.

A signed-in caller is recognised by their identity; an anonymous visitor proves it was them with the
``feedback_token`` of the create response (sent back in the ``X-HMS-Feedback-Token`` header), a creator token
(:mod:`._creators`) for the purpose "feedback".
"""

from __future__ import annotations

import logging
from typing import Any

from . import signals
from ._callers import Caller
from ._creators import creator_token, is_creator
from ._state import WebCallState, current_app_object
from .errors import BrowserError
from .store import StoreError

__all__ = [
    "FEEDBACK_WINDOW",
    "TOKEN_HEADER",
    "feedback_token",
    "submit_feedback",
]

log = logging.getLogger("flask_hms_webcall")

FEEDBACK_WINDOW = 24 * 3600  # seconds after creating a call during which it can be rated
TOKEN_HEADER = "X-HMS-Feedback-Token"  # noqa: S105 - a header name, not a secret


def feedback_token(state: WebCallState, call_id: str) -> str:
    """The token that lets the anonymous creator of ``call_id`` rate it."""
    return creator_token(state, call_id, "feedback")


def submit_feedback(
    state: WebCallState, caller: Caller, call_id: str, data: dict[str, Any], token: str | None
) -> None:
    """Record a rating, or a comment on the rating the same caller gave before; :class:`BrowserError`
    ``forbidden`` (not the creator, or too late) or ``already_rated``. The owner's handlers and the
    ``feedback_received`` signal get the rating once and a comment that follows it once more (same rating,
    ``follow_up=True`` on the signal)."""
    try:
        owner = state.store.call_owner(call_id)
    except StoreError:
        log.exception("the call store failed while taking feedback")
        raise BrowserError("unavailable") from None
    if owner is None or not is_creator(caller, owner, token, feedback_token(state, call_id)):
        raise BrowserError("forbidden", "Only whoever made this call can rate it, within a day.")
    rating: str = data["rating"]
    comment: str | None = data.get("comment") or None
    try:
        follow_up = _record(state, call_id, rating, comment)
    except StoreError:
        log.exception("the call store failed while taking feedback")
        raise BrowserError("unavailable") from None
    for handler in state.hooks.feedback_handlers:
        handler(call_id, rating, comment, caller.identity)
    signals.feedback_received.send(
        current_app_object(),
        call_id=call_id,
        rating=rating,
        comment=comment,
        identity=caller.identity,
        follow_up=follow_up,
    )


def _record(state: WebCallState, call_id: str, rating: str, comment: str | None) -> bool:
    """Spend the call's rating, or its one comment on the rating given before (then ``True``: a follow-up).

    The widget sends the rating on the thumb click and the comment, with the same rating, as a second step;
    anything else after the rating (another rating, a second comment) is ``already_rated``."""
    store = state.store
    # A rating given with its comment is remembered so (not as the rating alone): no comment can follow it.
    given = f"{rating}+comment" if comment else rating
    kept = store.remember_once(f"feedback:{call_id}", given, ttl=FEEDBACK_WINDOW)
    if kept is None:
        return False
    if comment and kept == rating and store.spend_once(f"feedback-comment:{call_id}", ttl=FEEDBACK_WINDOW):
        return True
    raise BrowserError("already_rated")
