"""Page actions: what the site's assistant may do in the visitor's page, decided by the site's own server.

A ``tool-calls`` webhook for a name registered with ``@webcall.page_action`` runs the owner's handler; its
``action`` (plain JSON data, under ``HMS_PAGE_ACTION_MAX_BYTES``) goes into the call's action log in the
store, and the browser that made the call reads that log as Server-Sent Events
(``GET {prefix}/web-calls/<call_id>/actions``). The log is the delivery between workers: the webhook may
land on one worker and the stream on another. Only the call's creator may read it: the same identity, or
for an anonymous caller the ``actions_token`` of the create response (in the query string, because an
EventSource cannot send headers; it differs from the feedback token, so an address that leaks into an access
log cannot rate the call, and it is worthless once the call has ended).

Each event's id is signed for its call, so a reconnect's ``Last-Event-ID`` is an id this stream really sent
or a 400: the store never sees an id it cannot take, and after the end of the call only a browser that was
following it (it holds a real id) is given what it missed.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from ._callers import Caller
from ._config import CALL_TTL
from ._creators import creator_token, holds_token, is_creator
from ._hooks import PageActionCall
from ._state import WebCallState
from .errors import BrowserError
from .hms import MAX_CALL_DURATION
from .store import StoreError

__all__ = [
    "ACTION_NAME",
    "PageActionCall",
    "PageActionError",
    "actions_path",
    "actions_token",
    "check_action",
    "check_caller",
    "event_kind",
    "open_stream",
]

log = logging.getLogger("flask_hms_webcall")

# Tool names as the LLM function-calling APIs take them; also what the page sees as the action's name.
ACTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_DEPTH = 16
# A lone surrogate ("\ud800", which a handler may echo from the arguments) is a Python str but not Unicode
# text: no UTF-8 carries it to a browser.
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
HEARTBEAT = 15.0  # seconds between keep-alive comments, well inside proxies' idle timeouts
# A stream ends after the longest call; a call still going (it cannot be) would reconnect with Last-Event-ID.
STREAM_LIFETIME = MAX_CALL_DURATION + 60
RETRY_MS = 1000  # how soon the browser reconnects a dropped stream
# nginx would otherwise buffer the stream, holding every action until its buffer fills.
STREAM_HEADERS = {"X-Accel-Buffering": "no"}


class PageActionError(ValueError):
    """A handler's action that cannot go to a browser: not plain JSON data, or too large."""


def actions_token(state: WebCallState, call_id: str) -> str:
    """The token that lets the anonymous creator of ``call_id`` read its actions."""
    return creator_token(state, call_id, "actions")


def actions_path(state: WebCallState, call_id: str, anonymous: bool) -> str:
    """Where the creator's browser reads the call's actions: the ``actions_url`` of the create response."""
    path = f"{state.settings.url_prefix}/web-calls/{call_id}/actions"
    return f"{path}?token={actions_token(state, call_id)}" if anonymous else path


def check_action(action: Any, max_bytes: int) -> str:
    """``action`` as compact JSON text, or :class:`PageActionError` saying what is wrong with it."""
    if not isinstance(action, dict):
        raise PageActionError(f"the action must be a dict of plain data, not {type(action).__name__}")
    _check_data(action, "action", 0)
    text = json.dumps(action, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    size = len(text.encode())
    if size > max_bytes:
        raise PageActionError(
            f"the action is {size} bytes of JSON, over HMS_PAGE_ACTION_MAX_BYTES ({max_bytes})"
        )
    return text


def _check_data(value: Any, where: str, depth: int) -> None:
    # Data only: no objects with their own JSON encoding, no NaN, nothing a page could mistake for code.
    if depth > MAX_DEPTH:
        raise PageActionError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if LONE_SURROGATE.search(value):
            raise PageActionError(f"{where} is not Unicode text (it holds a lone surrogate)")
        return
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PageActionError(f"{where} is not a finite number")
        return
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_data(item, f"{where}[{index}]", depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or LONE_SURROGATE.search(key):
                raise PageActionError(f"{where} has a key that is not Unicode text: {key!r}")
            _check_data(item, f"{where}[{key!r}]", depth + 1)
        return
    raise PageActionError(f"{where} is a {type(value).__name__}, not plain data")


def publish(state: WebCallState, call_id: str, name: str, action: dict[str, Any]) -> None:
    """Check ``action`` and put it into the call's log; :class:`PageActionError` or ``StoreError``."""
    from ._targets import check_target_action  # here: _targets builds on this module's PageActionError

    data = check_action(action, state.settings.page_action_max_bytes)
    check_target_action(name, action)
    event = f'{{"name":{json.dumps(name)},"callId":{json.dumps(call_id)},"args":{data}}}'
    state.store.publish_action(call_id, event, ttl=CALL_TTL)


def event_kind(entry: str) -> tuple[str, str]:
    """An entry of the log as (SSE event name, JSON text): an action is stored as its JSON; anything else
    (a page tool's request, ``_page_tools.py``) as its event name, a space, and its JSON."""
    if entry.startswith("{"):
        return "action", entry
    kind, _, data = entry.partition(" ")
    return kind, data


def end_stream(state: WebCallState, call_id: str) -> None:
    """The call is over: open streams get an ``end`` event and close."""
    try:
        state.store.end_actions(call_id, ttl=CALL_TTL)
    except StoreError:
        log.exception("the call store failed to close the action stream of call %s", call_id)


def open_stream(
    state: WebCallState, caller: Caller, call_id: str, token: str | None, last_event_id: str | None
) -> Iterator[str]:
    """Check that ``caller`` may read the actions of ``call_id``, then its Server-Sent Events as text.

    Raises :class:`BrowserError` before the stream starts: ``forbidden`` (unknown call, not the creator, no
    or a wrong token: one answer, so nobody learns which call ids exist), ``invalid_request`` (a
    ``Last-Event-ID`` this stream did not send), ``call_ended`` (the creator, after the end, with no
    ``Last-Event-ID``) or ``unavailable`` (the store)."""
    check_caller(state, caller, call_id, token)
    after = _sent_id(state, call_id, last_event_id) if last_event_id else None
    try:
        first = state.store.read_actions(call_id, after, timeout=0)
    except StoreError:
        log.exception("the call store failed while opening an action stream")
        raise BrowserError("unavailable") from None
    # After the end, only a browser that was following the call (it holds an id the stream sent) is given
    # what followed that id; anyone else, the creator included, gets nothing of the log.
    if first.ended and after is None:
        raise BrowserError("call_ended")
    return _events(state, call_id, after, first.events, first.ended, time.monotonic)


def check_caller(state: WebCallState, caller: Caller, call_id: str, token: str | None) -> None:
    forbidden = BrowserError("forbidden", "Only whoever made this call can follow it.")
    expected = actions_token(state, call_id)
    # An anonymous visitor without the call's token is refused before the store is asked anything, so a
    # stranger cannot make this route touch the store for call ids of their choosing.
    if caller.anonymous and not holds_token(token, expected):
        raise forbidden
    try:
        owner = state.store.call_owner(call_id)
    except StoreError:
        log.exception("the call store failed while opening an action stream")
        raise BrowserError("unavailable") from None
    if owner is None or not is_creator(caller, owner, token, expected):
        raise forbidden


def _signed_id(state: WebCallState, call_id: str, store_id: str) -> str:
    """The SSE id of the store's action ``store_id``: the id and an HMAC of it for this call."""
    return f"{store_id}.{creator_token(state, f'{call_id}/{store_id}', 'action id')}"


def _sent_id(state: WebCallState, call_id: str, last_event_id: str) -> str:
    """The store's id inside ``last_event_id`` if this stream sent it for ``call_id``, else
    ``invalid_request``: whatever else the header holds (2^64, ``-1``, ``0``, digits that are not ASCII), the
    store never sees it."""
    store_id = last_event_id.rpartition(".")[0]
    if not last_event_id.isascii() or not hmac.compare_digest(
        last_event_id.encode(), _signed_id(state, call_id, store_id).encode()
    ):
        raise BrowserError("invalid_request", "Last-Event-ID is not an id this stream sent.")
    return store_id


def _events(
    state: WebCallState,
    call_id: str,
    after: str | None,
    events: tuple[tuple[str, str], ...],
    ended: bool,
    clock: Callable[[], float],
) -> Iterator[str]:
    # A blocking read shorter than the store's socket timeout, so a quiet call never looks like a dead Redis;
    # it is also how soon a stream pushed out by newer ones of its call (_streams.py) notices.
    wait = max(0.05, min(HEARTBEAT, state.settings.redis_timeout / 2))
    start = last_beat = clock()
    # Counted once the stream runs (a response never iterated never runs the ``finally`` that uncounts it).
    stop = state.streams.enter(call_id)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        while not stop.is_set():
            for event_id, entry in events:
                after = event_id
                kind, data = event_kind(entry)
                yield f"id: {_signed_id(state, call_id, event_id)}\nevent: {kind}\ndata: {data}\n\n"
            if ended:
                yield "event: end\ndata: {}\n\n"
                return
            now = clock()
            if now - start >= STREAM_LIFETIME:
                return  # the browser reconnects with Last-Event-ID should the call still be going
            if now - last_beat >= HEARTBEAT:
                last_beat = now
                yield ": keep-alive\n\n"
            try:
                batch = state.store.read_actions(call_id, after, timeout=wait)
            except StoreError:
                log.exception("the call store failed while streaming the actions of call %s", call_id)
                return  # the browser reconnects, and is replayed what it missed
            events, ended = batch.events, batch.ended
    finally:
        state.streams.leave(call_id, stop)
