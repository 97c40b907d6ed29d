"""Admitting and creating a call: who is calling, the challenge and consent, the owner's hooks, the limits and
budgets (reserved atomically in the store), then HMS; and what the visitor is told when HMS refuses."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone
from typing import Any

from . import signals
from ._actions import actions_path
from ._budgets import BudgetDay, budget_day
from ._callers import Caller
from ._challenge import verify_challenge
from ._feedback import FEEDBACK_WINDOW, feedback_token
from ._hooks import CallRequest
from ._state import WebCallState, current_app_object
from .errors import (
    BrowserError,
    HMSAPIError,
    HMSAuthenticationError,
    HMSConcurrencyLimitError,
    HMSForbiddenError,
    HMSInsufficientCreditsError,
    HMSInvalidRequestError,
    HMSTimeoutError,
)
from .hms import TOKEN_TTL
from .schemas import create_body_error
from .store import Admission, StoreError

__all__ = ["BUSY_RETRY_AFTER", "CallRequest", "browser_error", "create_call"]

log = logging.getLogger("flask_hms_webcall")

# When the org is full, the soonest slot may be minutes from expiring, but most calls end much sooner: a
# visitor is better served by "try again in 30 s" than by the worst case.
BUSY_RETRY_AFTER = 30


def create_call(state: WebCallState, caller: Caller, request_data: dict[str, Any]) -> dict[str, Any]:
    """Create a web call for a validated browser request; :class:`BrowserError` when refused."""
    settings = state.settings
    verify_challenge(state, caller, request_data)
    fixed_metadata: dict[str, Any] = {}
    if settings.require_consent is not None:
        if request_data.get("consent") != settings.require_consent:
            raise BrowserError("consent_required")
        # The proof travels with the call: every webhook of it carries the version and when it was given.
        fixed_metadata["consent_version"] = settings.require_consent
        fixed_metadata["consent_at"] = _iso(state.clock())

    call = CallRequest(
        identity=caller.identity,
        assistant=request_data.get("assistant"),
        assistant_id=_assistant_id(state, request_data.get("assistant")),
        context=dict(request_data.get("context") or {}),
    )
    for hook in state.hooks.before_create:
        hook(call)
    max_duration = settings.max_duration(caller.anonymous)
    if caller.anonymous and settings.anonymous_max_duration is not None and isinstance(call.override, dict):
        chosen = call.override.get("max_duration_seconds")
        if not isinstance(chosen, int) or isinstance(chosen, bool) or chosen > max_duration:
            call.override["max_duration_seconds"] = max_duration
    body = call.upstream_body(fixed_metadata)
    problem = create_body_error(body)
    if problem is not None:
        log.error("not creating a web call: HMS would refuse the configuration (%s)", problem)
        raise BrowserError("misconfigured")

    slot_id = secrets.token_hex(16)  # 128 random bits (a uuid4 has 122), without building a UUID
    ttl = settings.slot_ttl(caller.anonymous)
    _admit(state, caller, slot_id, ttl, max_duration)
    try:
        web_call = state.client._create_checked(body)  # checked above, before the slot was taken
    except HMSAPIError as exc:
        _release_slot(state, slot_id)
        raise browser_error(exc) from None
    except BaseException:
        _release_slot(state, slot_id)
        raise
    try:
        state.store.bind(slot_id, web_call.call_id, ttl=ttl, record_ttl=FEEDBACK_WINDOW)
    except StoreError:
        # The call exists and the slot is still held until it expires: the visitor can still talk.
        log.exception("the call store failed to record call %s", web_call.call_id)
    signals.call_created.send(
        current_app_object(),
        call_id=web_call.call_id,
        identity=caller.identity,
        caller=caller.key,
        max_duration=max_duration,
    )
    answer = {
        "call_id": web_call.call_id,
        "room_name": web_call.room_name,
        "token": web_call.token,
        "server_url": web_call.server_url,
        "expires_in": TOKEN_TTL,
        "max_duration": max_duration,
    }
    if caller.anonymous:
        answer["feedback_token"] = feedback_token(state, web_call.call_id)
    if state.hooks.has_page_stream():
        # Only sites with page actions or tools: the widget opens a stream (a server thread) only when
        # given one.
        answer["actions_url"] = actions_path(state, web_call.call_id, caller.anonymous)
    return answer


def _assistant_id(state: WebCallState, name: str | None) -> str:
    settings = state.settings
    if name is None:
        if settings.assistant_id is None:
            raise BrowserError("invalid_request", "assistant: choose one of the configured assistants.")
        return settings.assistant_id
    if name in settings.assistants:
        return settings.assistants[name]
    raise BrowserError("invalid_request", "assistant: no assistant of that name.")


def _admit(state: WebCallState, caller: Caller, slot_id: str, ttl: float, max_duration: int) -> None:
    settings = state.settings
    day = budget_day(settings, caller, state.clock())
    max_anonymous = settings.max_anonymous_calls
    if max_anonymous is None:
        # A signed-in user can always get the last slot: strangers cannot lock members out.
        signed_in_users_exist = state.hooks.identity_loader is not None
        max_anonymous = settings.max_concurrent_calls - (1 if signed_in_users_exist else 0)
    try:
        admission = state.store.admit(
            slot_id,
            caller.key,
            max_per_user=settings.max_calls_per_user,
            max_org=settings.max_concurrent_calls,
            ttl=ttl,
            anonymous=caller.anonymous,
            max_anonymous=max_anonymous,
            reserve=max_duration if day.budgets else 0,
            budgets=day.budgets,
        )
    except StoreError:
        log.exception("the call store failed")
        raise BrowserError("unavailable") from None
    if not admission.admitted:
        raise _refusal(state, caller, admission, day)


def _refusal(state: WebCallState, caller: Caller, admission: Admission, day: BudgetDay) -> BrowserError:
    if admission.reason == "user":
        return BrowserError("too_many_calls")
    if admission.reason == "budget" and admission.budget_index is not None:
        scope = day.scopes[admission.budget_index]
        if scope == "site" and _first_time_today(state, f"warned:site:{day.day}"):
            log.warning(
                "the site's daily call minutes (HMS_DAILY_MINUTES=%s) are used up for %s: calls are refused "
                "until the day ends",
                state.settings.daily_minutes,
                day.day,
            )
        signals.budget_exhausted.send(
            current_app_object(),
            scope=scope,
            caller=caller.key,
            retry_after=day.seconds_left,
        )
        status = 429 if scope == "user" else 503
        return BrowserError("budget_exhausted", retry_after=day.seconds_left, status=status)
    retry_after = min(admission.retry_after or BUSY_RETRY_AFTER, BUSY_RETRY_AFTER)
    return BrowserError("busy", retry_after=retry_after)


def _first_time_today(state: WebCallState, key: str) -> bool:
    try:
        return state.store.spend_once(key, ttl=24 * 3600)
    except StoreError:
        return False


def _release_slot(state: WebCallState, slot_id: str) -> None:
    try:
        state.store.release_slot(slot_id)
    except StoreError:
        log.exception("the call store failed to release a slot; it frees itself when it expires")


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def browser_error(exc: HMSAPIError) -> BrowserError:
    """What the visitor is told when HMS refused; the full story goes to the log only."""
    if isinstance(exc, HMSConcurrencyLimitError):
        log.warning("HMS is at the organisation's concurrent web call limit: %s", exc)
        return BrowserError("busy", retry_after=min(exc.retry_after or BUSY_RETRY_AFTER, 300))
    if isinstance(exc, HMSInsufficientCreditsError):
        log.error("HMS refused a web call: the organisation has no credits left (%s)", exc)
        return BrowserError("unavailable")
    if isinstance(exc, (HMSAuthenticationError, HMSForbiddenError)):
        log.error("HMS refused the API key or assistant, check HMS_API_KEY and HMS_ASSISTANT_ID: %s", exc)
        return BrowserError("misconfigured")
    if isinstance(exc, HMSTimeoutError):
        log.error("HMS did not answer in time: %s", exc)
        return BrowserError("upstream_timeout")
    if isinstance(exc, HMSInvalidRequestError) or (exc.status is not None and 400 <= exc.status < 500):
        log.error("HMS refused the web call request: %s", exc)
        return BrowserError("misconfigured")
    log.error("HMS failed to create a web call: %s", exc)
    return BrowserError("upstream_error")
