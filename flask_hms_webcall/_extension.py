"""``HMSWebCall``: the Flask extension. It keeps the site owner's hooks (who is calling, per-call config,
webhook handlers, tools) and, per app, the state in ``app.extensions["hms_webcall"]``.

Creating a call and handling a webhook are done here, from plain values; :mod:`._views` turns HTTP requests
into those values and the results back into responses.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from flask import Flask
from limits import parse_many

from ._config import MAX_DURATION, TOKEN_TTL, Settings, resolve_settings
from .client import HMSClient
from .errors import (
    BrowserError,
    ConfigurationError,
    HMSAPIError,
    HMSAuthenticationError,
    HMSConcurrencyLimitError,
    HMSForbiddenError,
    HMSInsufficientCreditsError,
    HMSInvalidRequestError,
    HMSTimeoutError,
    WebhookPayloadError,
    error_body,
)
from .events import EVENT_TYPES, Event, ToolCalls, parse_event
from .schemas import create_body_error
from .signature import verify
from .store import CallStore, StoreError, create_store

__all__ = ["EXTENSION_KEY", "CallRequest", "HMSWebCall", "WebCallState"]

log = logging.getLogger("flask_hms_webcall")

EXTENSION_KEY = "hms_webcall"
RATE_LIMIT_NAMESPACE = "hms_webcall"
# When the org is full, the soonest slot may be minutes from expiring, but most calls end much sooner: a
# visitor is better served by "try again in 30 s" than by the worst case.
BUSY_RETRY_AFTER = 30
# A claimed delivery whose handler never finished (a crashed worker) may be retried after this long.
DELIVERY_CLAIM_TTL = 120
# How long a handled delivery is remembered, so HMS retries and replays are not dispatched twice.
DELIVERY_DEDUP_TTL = 24 * 3600
MAX_TOOL_RESULT_ERROR = 200

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class CallRequest:
    """One visitor's request for a call, as the ``before_create`` hooks see it.

    Hooks may set ``override`` (fields of ``assistant_override``: ``first_message``, ``llm_config``...),
    ``metadata`` (echoed in every webhook of the call) and ``assistant_id``. ``metadata["user_id"]`` is
    always replaced by the identity loader's value after the hooks ran, so it cannot be spoofed.
    """

    identity: str | None
    assistant: str | None
    assistant_id: str | None
    context: dict[str, str]
    override: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def upstream_body(self) -> dict[str, Any]:
        """Reference mode, or hybrid mode as soon as there is anything to override or attach."""
        body: dict[str, Any] = {} if self.assistant_id is None else {"assistant_id": self.assistant_id}
        extra = self.override.get("metadata") if isinstance(self.override, dict) else None
        if extra is None:
            # A hook writing ``override["metadata"] = None`` means "no metadata of mine": user_id still goes.
            extra = {}
        for value in (self.override, extra, self.metadata, self.context):
            if not isinstance(value, dict):
                # A hook left something that is not an object: the schema check that follows refuses it,
                # so nothing is sent (and user_id cannot go missing unnoticed).
                body["assistant_override"] = {"metadata": value}
                return body
        override = {key: value for key, value in self.override.items() if key != "metadata"}
        metadata = {**extra, **self.metadata}
        if self.context:
            metadata["context"] = dict(self.context)
        metadata.pop("user_id", None)
        if self.identity is not None:
            metadata["user_id"] = self.identity
        if metadata:
            override["metadata"] = metadata
        if override:
            body["assistant_override"] = override
        return body


class WebCallState:
    """Everything one app needs at request time: ``app.extensions["hms_webcall"]``."""

    def __init__(
        self,
        extension: HMSWebCall,
        settings: Settings,
        store: CallStore,
        client: HMSClient,
        limiter: Any,
    ) -> None:
        self.extension = extension
        self.settings = settings
        self.store = store
        self.client = client
        self.limiter = limiter
        self.rate_limits = sorted(parse_many(settings.rate_limit), key=lambda item: item.get_expiry())

    # ------------------------------------------------------------------------------------- creating calls

    def identity(self) -> str | None:
        loader = self.extension._identity_loader
        if loader is None:
            return None
        value = loader()
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def check_rate_limit(self, user_key: str) -> None:
        """Count one attempt against ``HMS_RATE_LIMIT``; :class:`BrowserError` ``rate_limited`` when over."""
        limiter = self.limiter
        if not getattr(limiter, "enabled", True):
            return  # RATELIMIT_ENABLED = False: the owner switched rate limiting off
        if not getattr(limiter, "initialized", False):
            log.error(
                "the Flask-Limiter given to HMSWebCall was never initialised: call limiter.init_app(app)"
            )
            raise BrowserError("misconfigured")
        strategy = limiter.limiter
        identifiers = (RATE_LIMIT_NAMESPACE, self.settings.url_prefix, user_key)
        try:
            for item in self.rate_limits:
                if not strategy.hit(item, *identifiers):
                    reset = strategy.get_window_stats(item, *identifiers).reset_time
                    raise BrowserError("rate_limited", retry_after=max(1, math.ceil(reset - time.time())))
        except BrowserError:
            raise
        except Exception:
            log.exception("the rate limit storage failed")
            raise BrowserError("unavailable") from None

    def create_call(
        self, identity: str | None, user_key: str, request_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Create a web call for a validated browser request; :class:`BrowserError` when refused."""
        settings = self.settings
        name = request_data.get("assistant")
        if name is None:
            if settings.assistant_id is None:
                raise BrowserError("invalid_request", "assistant: choose one of the configured assistants.")
            assistant_id = settings.assistant_id
        elif name in settings.assistants:
            assistant_id = settings.assistants[name]
        else:
            raise BrowserError("invalid_request", "assistant: no assistant of that name.")

        call = CallRequest(
            identity=identity,
            assistant=name,
            assistant_id=assistant_id,
            context=dict(request_data.get("context") or {}),
        )
        for hook in self.extension._before_create:
            hook(call)
        body = call.upstream_body()
        problem = create_body_error(body)
        if problem is not None:
            log.error("not creating a web call: HMS would refuse the configuration (%s)", problem)
            raise BrowserError("misconfigured")

        slot_id = uuid.uuid4().hex
        try:
            admission = self.store.admit(
                slot_id,
                user_key,
                max_per_user=settings.max_calls_per_user,
                max_org=settings.max_concurrent_calls,
                ttl=settings.call_ttl,
            )
        except StoreError:
            log.exception("the call store failed")
            raise BrowserError("unavailable") from None
        if not admission.admitted:
            if admission.reason == "user":
                raise BrowserError("too_many_calls")
            retry_after = min(admission.retry_after or BUSY_RETRY_AFTER, BUSY_RETRY_AFTER)
            raise BrowserError("busy", retry_after=retry_after)

        try:
            web_call = self.client.create_web_call(**body)
        except HMSAPIError as exc:
            self._release_slot(slot_id)
            raise _browser_error(exc) from None
        except BaseException:
            self._release_slot(slot_id)
            raise
        try:
            self.store.bind(slot_id, web_call.call_id, ttl=settings.call_ttl)
        except StoreError:
            # The call exists and the slot is still held until it expires: the visitor can still talk.
            log.exception("the call store failed to record call %s", web_call.call_id)
        return {
            "call_id": web_call.call_id,
            "room_name": web_call.room_name,
            "token": web_call.token,
            "server_url": web_call.server_url,
            "expires_in": TOKEN_TTL,
            "max_duration": MAX_DURATION,
        }

    def _release_slot(self, slot_id: str) -> None:
        try:
            self.store.release_slot(slot_id)
        except StoreError:
            log.exception("the call store failed to release a slot; it frees itself when it expires")

    # ------------------------------------------------------------------------------------------- webhooks

    def handle_webhook(
        self, body: bytes, signature: str | None, timestamp: str | None
    ) -> tuple[int, dict[str, Any]]:
        """Verify, parse, de-duplicate and dispatch one delivery; the HTTP status and JSON body to answer.

        Raises :class:`~flask_hms_webcall.errors.WebhookSignatureError` (401) or
        :class:`~flask_hms_webcall.errors.WebhookPayloadError` (400).
        """
        settings = self.settings
        verify(body, signature, timestamp, settings.webhook_secrets, tolerance=settings.webhook_tolerance)
        event = _parse(body)
        # Keyed on the body alone: a replay carries the same body and timestamp, and an HMS retry may be
        # re-signed with a new timestamp, but both are the same delivery.
        key = hashlib.sha256(body).hexdigest()
        store = self.store
        try:
            if event.is_final and event.call_id:
                store.release_call(event.call_id)
            claimed = store.claim_delivery(key, ttl=DELIVERY_CLAIM_TTL)
            if not claimed and not store.delivery_handled(key):
                return 409, error_body("delivery_in_progress")
        except StoreError:
            log.exception("the call store failed while handling a webhook")
            return 503, error_body("unavailable")
        if not claimed:
            log.info(
                "duplicate %s webhook for call %s: acknowledged, not dispatched", event.type, event.call_id
            )
            if isinstance(event, ToolCalls):
                return 200, {"results": [], "duplicate": True}
            return 200, {"ok": True, "duplicate": True}
        try:
            reply = self.extension._dispatch(event)
        except Exception:
            log.exception("a %s webhook handler failed for call %s", event.type or "webhook", event.call_id)
            _quietly(store.abandon_delivery, key)
            return 500, error_body("handler_error")
        _quietly(store.complete_delivery, key, ttl=DELIVERY_DEDUP_TTL)
        return 200, reply


def _quietly(method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        method(*args, **kwargs)
    except StoreError:
        log.exception("the call store failed to record a webhook delivery")


def _parse(body: bytes) -> Event:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookPayloadError("webhook body is not JSON") from None
    return parse_event(payload)  # refuses anything without a message object


def _browser_error(exc: HMSAPIError) -> BrowserError:
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


def _tool_result(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


class HMSWebCall:
    """The extension. ``HMSWebCall(app)``, or ``HMSWebCall()`` then ``init_app(app)`` in a factory.

    Keyword options are the ``HMS_*`` settings in lower case without the prefix (``url_prefix="/voice"``);
    they win over ``app.config``. ``limiter`` is the app's own Flask-Limiter, if it has one.
    """

    def __init__(self, app: Flask | None = None, *, limiter: Any = None, **options: Any) -> None:
        self._options = options
        self._limiter = limiter
        self._identity_loader: Callable[[], str | None] | None = None
        self._before_create: list[Callable[[CallRequest], Any]] = []
        self._handlers: list[tuple[str | None, Callable[[Event], Any]]] = []
        self._tools: dict[str, Callable[[dict[str, Any], ToolCalls], Any]] = {}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, limiter: Any = None, **options: Any) -> None:
        from ._views import create_blueprint, webhooks

        if EXTENSION_KEY in app.extensions:
            raise ConfigurationError("HMSWebCall is already initialised on this app")
        settings = resolve_settings(app.config, self._options, options)
        try:
            store = create_store(settings.storage_uri)
        except ValueError as exc:
            raise ConfigurationError(f"HMS_STORAGE_URI: {exc}") from None
        client = HMSClient(settings.api_key, base_url=settings.api_base_url, timeout=settings.request_timeout)
        blueprint = create_blueprint(settings.url_prefix)

        app_limiter = limiter if limiter is not None else self._limiter
        if app_limiter is not None:
            # The route has its own limit (HMS_RATE_LIMIT); the app's default limits are not applied on top.
            # HMS's webhook deliveries must never be refused by a limit meant for visitors, and an
            # application-wide limit is one too: visitors could use it up and lock the webhooks out.
            from flask_limiter import ExemptionScope

            app_limiter.exempt(blueprint, flags=ExemptionScope.DEFAULT)
            app_limiter.exempt(webhooks)  # default flags: application, default and meta limits
        else:
            app_limiter = _own_limiter(app, settings.storage_uri)

        app.extensions[EXTENSION_KEY] = WebCallState(self, settings, store, client, app_limiter)
        app.register_blueprint(blueprint)
        if not settings.webhook_secrets:
            message = (
                "HMS_WEBHOOK_SECRET is not set: every webhook delivery will be refused (401). "
                "Set it to the webhook secret of your HMS assistant."
            )
            log.warning(message)
            warnings.warn(message, stacklevel=2)

    # ----------------------------------------------------------------------------------------- decorators

    def identity_loader(self, func: F) -> F:
        """Register the function that says who is calling: a user id string, or ``None`` for anonymous."""
        self._identity_loader = func
        return func

    def before_create(self, func: F) -> F:
        """Register a hook called with a :class:`CallRequest` before each call is created."""
        self._before_create.append(func)
        return func

    @overload
    def on(self, event_type: F) -> F: ...

    @overload
    def on(self, event_type: str | None = None) -> Callable[[F], F]: ...

    def on(self, event_type: Any = None) -> Any:
        """Register a webhook handler for one event type, or for every event without an argument."""
        if callable(event_type):
            self._handlers.append((None, event_type))
            return event_type
        if event_type is not None and event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")

        def register(func: F) -> F:
            self._handlers.append((event_type, func))
            return func

        return register

    @overload
    def tool(self, name: F) -> F: ...

    @overload
    def tool(self, name: str) -> Callable[[F], F]: ...

    def tool(self, name: Any) -> Any:
        """Register the function answering tool calls of ``name``: ``f(arguments, event)``; its return value
        (text, or anything JSON-serialisable) becomes that tool call's result."""
        if callable(name):
            self._tools[name.__name__] = name
            return name
        if not isinstance(name, str) or not name:
            raise ValueError("a tool name must be a non-empty string")

        def register(func: F) -> F:
            self._tools[name] = func
            return func

        return register

    # ---------------------------------------------------------------------------------------- dispatching

    def _dispatch(self, event: Event) -> dict[str, Any]:
        for event_type, handler in list(self._handlers):
            if event_type is None or event_type == event.type:
                handler(event)
        if isinstance(event, ToolCalls):
            return {"results": [self._run_tool(call, event) for call in event.tool_calls]}
        return {"ok": True}

    def _run_tool(self, call: Any, event: ToolCalls) -> dict[str, Any]:
        # A failing tool answers with an error text the assistant can say, not a 500: the other tool calls
        # of the delivery still get their results, and HMS does not retry a delivery that half worked.
        func = self._tools.get(call.name)
        if func is None:
            log.warning("no tool registered for %r (call %s)", call.name, event.call_id)
            result = f"Error: the tool {call.name[:MAX_TOOL_RESULT_ERROR]!r} is not available."
        else:
            try:
                result = _tool_result(func(call.arguments, event))
            except Exception:
                log.exception("tool %r failed (call %s)", call.name, event.call_id)
                result = f"Error: the tool {call.name[:MAX_TOOL_RESULT_ERROR]!r} failed."
        return {"tool_call_id": call.id, "result": result}


def _own_limiter(app: Flask, storage_uri: str) -> Any:
    """A Flask-Limiter of our own, on ``HMS_STORAGE_URI``. It limits nothing by itself: the app's
    ``RATELIMIT_DEFAULT``/``RATELIMIT_APPLICATION`` would otherwise apply a second time to every route."""
    from flask_limiter import Limiter
    from limits.errors import ConfigurationError as LimitsConfigurationError

    uri = storage_uri
    if uri.startswith("unix://"):  # the same Redis socket, spelled the way the limits library wants it
        uri = "redis+unix://" + uri[len("unix://") :]
    limiter = Limiter(
        key_func=lambda: RATE_LIMIT_NAMESPACE,
        storage_uri=uri,
        strategy="fixed-window",
        default_limits_exempt_when=lambda: True,
        application_limits_exempt_when=lambda: True,
        key_prefix=RATE_LIMIT_NAMESPACE,
    )
    limiter.request_filter(lambda: True)
    try:
        limiter.init_app(app)
    except LimitsConfigurationError as exc:
        raise ConfigurationError(f"HMS_STORAGE_URI cannot be used for rate limiting: {exc}") from None
    return limiter
