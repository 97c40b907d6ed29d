"""HMS's webhook deliveries: verify → parse → claim → dispatch → complete (or abandon), and tools.

The claim on a delivery keeps a retry arriving while a handler still runs from running it a second time; it
lasts only as long as a handler may (``HMS_WEBHOOK_CLAIM_TTL``), and any exit from a handler, a worker being
killed included (``SystemExit`` is a ``BaseException``), gives it up before the exception goes on, so the
next retry is handled.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from . import _actions, _page_tools, signals
from ._actions import PageActionError
from ._hooks import Hooks, PageActionCall
from ._state import WebCallState, current_app_object
from .errors import WebhookPayloadError, error_body
from .events import EndOfCallReport, Event, ToolCall, ToolCalls, parse_event
from .signature import verify
from .store import StoreError

__all__ = ["DELIVERY_DEDUP_TTL", "dispatch", "handle_webhook"]

log = logging.getLogger("flask_hms_webcall")

# How long a handled delivery is remembered, so HMS retries and replays are not dispatched twice.
DELIVERY_DEDUP_TTL = 24 * 3600
MAX_TOOL_NAME_SHOWN = 200

# publish(call_id, name, action): sends a page action to the call's browser (PageActionError, StoreError).
Publish = Callable[[str, str, Any], None]
# ask(event, call): sends a page tool's request to the call's browser; what waits for its result text.
Ask = Callable[[ToolCalls, ToolCall], Callable[[], str]]


def handle_webhook(
    state: WebCallState, body: bytes, signature: str | None, timestamp: str | None
) -> tuple[int, dict[str, Any]]:
    """Verify, parse, de-duplicate and dispatch one delivery; the HTTP status and JSON body to answer.

    Raises :class:`~flask_hms_webcall.errors.WebhookSignatureError` (401) or
    :class:`~flask_hms_webcall.errors.WebhookPayloadError` (400).
    """
    settings = state.settings
    verify(body, signature, timestamp, settings.webhook_secrets, tolerance=settings.webhook_tolerance)
    event = _parse(body)
    app = current_app_object()
    signals.webhook_received.send(app, event=event)
    # Keyed on the body alone: a replay carries the same body and timestamp, and an HMS retry may be
    # re-signed with a new timestamp, but both are the same delivery.
    key = hashlib.sha256(body).hexdigest()
    store = state.store
    try:
        if event.is_final and event.call_id:
            store.release_call(event.call_id)
            if state.hooks.has_page_stream():
                _actions.end_stream(state, event.call_id)
        claimed = store.claim_delivery(key, ttl=settings.webhook_claim_ttl)
        if not claimed and not store.delivery_handled(key):
            return 409, error_body("delivery_in_progress")
    except StoreError:
        log.exception("the call store failed while handling a webhook")
        return 503, error_body("unavailable")
    if not claimed:
        log.info("duplicate %s webhook for call %s: acknowledged, not dispatched", event.type, event.call_id)
        if isinstance(event, ToolCalls):
            return 200, {"results": [], "duplicate": True}
        return 200, {"ok": True, "duplicate": True}
    try:
        reply = dispatch(
            state.hooks,
            event,
            publish=lambda *args: _actions.publish(state, *args),
            ask=lambda *args: _page_tools.ask(state, *args),
        )
    except Exception as exc:
        log.exception("a %s webhook handler failed for call %s", event.type or "webhook", event.call_id)
        _quietly(store.abandon_delivery, key)
        signals.webhook_failed.send(app, event=event, exception=exc)
        return 500, error_body("handler_error")
    except BaseException:
        _quietly(store.abandon_delivery, key)
        raise
    _quietly(store.complete_delivery, key, ttl=DELIVERY_DEDUP_TTL)
    if isinstance(event, EndOfCallReport):
        _call_ended(state, app, event)
    return 200, reply


def _call_ended(state: WebCallState, app: Any, event: EndOfCallReport) -> None:
    # Settled after the handlers succeeded and the delivery is complete, so a retried delivery settles once;
    # settle_call itself refuses a second settlement of the same call.
    if event.call_id and event.duration_seconds is not None:
        _quietly(state.store.settle_call, event.call_id, event.duration_seconds)
    signals.call_ended.send(
        app,
        call_id=event.call_id,
        duration_seconds=event.duration_seconds,
        ended_reason=event.ended_reason,
        event=event,
    )


def dispatch(
    hooks: Hooks, event: Event, *, publish: Publish | None = None, ask: Ask | None = None
) -> dict[str, Any]:
    """Run the handlers registered for ``event``; the reply body (tool results for ``tool-calls``).
    ``publish`` sends page actions on (without it, a page action's action goes nowhere); ``ask`` sends page
    tools' requests (without it, a page tool is not available)."""
    for event_type, handler in list(hooks.handlers):
        if event_type is None or event_type == event.type:
            handler(event)
    if isinstance(event, ToolCalls):
        # Every page tool of the delivery is asked first, so they wait for the page together.
        calls = event.tool_calls
        waiting = {i: ask(event, c) for i, c in enumerate(calls) if ask and c.name in hooks.page_tools}
        results = [
            {"tool_call_id": c.id, "result": waiting[i]()}
            if i in waiting
            else _run_tool(hooks, c, event, publish)
            for i, c in enumerate(calls)
        ]
        return {"results": results}
    return {"ok": True}


def _run_tool(hooks: Hooks, call: ToolCall, event: ToolCalls, publish: Publish | None) -> dict[str, Any]:
    # A failing tool answers with an error text the assistant can say, not a 500: the other tool calls of
    # the delivery still get their results, and HMS does not retry a delivery that half worked.
    action = hooks.page_actions.get(call.name)
    if action is not None:
        return {"tool_call_id": call.id, "result": _run_page_action(action, call, event, publish)}
    func = hooks.tools.get(call.name)
    if func is None:
        log.warning("no tool registered for %r (call %s)", call.name, event.call_id)
        result = f"Error: the tool {call.name[:MAX_TOOL_NAME_SHOWN]!r} is not available."
    else:
        try:
            result = _tool_result(func(call.arguments, event))
        except Exception:
            log.exception("tool %r failed (call %s)", call.name, event.call_id)
            result = f"Error: the tool {call.name[:MAX_TOOL_NAME_SHOWN]!r} failed."
    return {"tool_call_id": call.id, "result": result}


def _run_page_action(
    func: Callable[[PageActionCall], Any], call: ToolCall, event: ToolCalls, publish: Publish | None
) -> str:
    # The action is sent only once the handler returned, checked: a handler that fails, or returns
    # something that is not plain data under the size cap, sends nothing and tells the assistant so.
    failed = f"Error: the page action {call.name!r} failed."
    typed = PageActionCall(call.name, call.id, event.call_id, call.arguments, event.metadata, event)
    try:
        answer = func(typed)
        if not isinstance(answer, tuple) or len(answer) != 2:
            raise PageActionError("the handler must return (result_for_the_assistant, action_for_the_page)")
        result, page = answer
        text = _tool_result(result)
    except PageActionError as exc:
        log.error("page action %r of call %s not sent: %s", call.name, event.call_id, exc)
        return failed
    except Exception:
        log.exception("page action %r failed (call %s)", call.name, event.call_id)
        return failed
    if page is None:
        return text
    if not event.call_id or publish is None:
        log.error("page action %r not sent: the tool call names no call", call.name)
        return failed
    try:
        publish(event.call_id, call.name, page)
    except PageActionError as exc:
        log.error("page action %r of call %s not sent: %s", call.name, event.call_id, exc)
        return failed
    except StoreError:
        log.exception("the call store failed to send page action %r of call %s", call.name, event.call_id)
        return f"Error: the page action {call.name!r} could not reach the page."
    return text


def _tool_result(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _quietly(method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        method(*args, **kwargs)
    except StoreError:
        log.exception("the call store failed to record a webhook delivery")


def _parse(body: bytes) -> Event:
    try:
        # UTF-8, as HMS sends it, decoded here: given bytes, json.loads first works out their encoding,
        # which cost more than decoding them. Anything that does not parse this way (another encoding, a
        # byte-order mark, a lone surrogate) gets json.loads' own reading, so what parses is unchanged.
        payload = json.loads(body.decode())
    except ValueError:
        payload = _parse_any_encoding(body)
    except RecursionError:
        raise WebhookPayloadError("webhook body is not JSON") from None
    return parse_event(payload)  # refuses anything without a message object


def _parse_any_encoding(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookPayloadError("webhook body is not JSON") from None
