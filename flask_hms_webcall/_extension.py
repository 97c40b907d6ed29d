"""``HMSWebCall``: the Flask extension. Registration only: the site owner's hooks (who is calling, per-call
config, webhook handlers, tools, challenge verifier, feedback) are collected in one :class:`~._hooks.Hooks`
object, and ``init_app`` puts each app's state in ``app.extensions["hms_webcall"]``."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import Flask

from . import _ratelimit, _targets
from ._actions import ACTION_NAME
from ._config import resolve_settings
from ._hooks import Hooks, PageTool
from ._page_tools import MAX_PAGE_TOOL_TIMEOUT, MIN_PAGE_TOOL_TIMEOUT
from ._state import EXTENSION_KEY, WebCallState, current_state
from ._views import create_blueprint, webhooks
from .client import HMSClient
from .errors import ConfigurationError, setting_name
from .events import EVENT_TYPES
from .store import create_store

__all__ = ["HMSWebCall"]

log = logging.getLogger("flask_hms_webcall")

F = TypeVar("F", bound=Callable[..., Any])


class HMSWebCall:
    """The extension. ``HMSWebCall(app)``, or ``HMSWebCall()`` then ``init_app(app)`` in a factory.

    Keyword options are the ``HMS_*`` settings in lower case without the prefix (``url_prefix="/voice"``);
    they win over ``app.config``. ``limiter`` is the app's own Flask-Limiter, if it has one.
    """

    def __init__(self, app: Flask | None = None, *, limiter: Any = None, **options: Any) -> None:
        self._options = options
        self._limiter = limiter
        self.hooks = Hooks()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, *, limiter: Any = None, **options: Any) -> None:
        if EXTENSION_KEY in app.extensions:
            raise ConfigurationError("HMSWebCall is already initialised on this app")
        settings = resolve_settings(app.config, self._options, options)
        try:
            store = create_store(settings.storage_uri, timeout=settings.redis_timeout)
        except ValueError as exc:
            raise ConfigurationError(f"{setting_name('HMS_STORAGE_URI')}: {exc}") from None
        client = HMSClient(settings.api_key, base_url=settings.api_base_url, timeout=settings.request_timeout)
        blueprint = create_blueprint(settings.url_prefix)
        rate_limiter = _ratelimit.attach(
            app, limiter if limiter is not None else self._limiter, settings, blueprint, webhooks
        )
        app.extensions[EXTENSION_KEY] = WebCallState(settings, self.hooks, store, client, rate_limiter)
        app.register_blueprint(blueprint)
        if not settings.webhook_secrets:
            message = (
                f"{setting_name('HMS_WEBHOOK_SECRET')} is not set: every webhook delivery will be refused "
                "(401). "
                "Set it to the webhook secret of your HMS assistant."
            )
            log.warning(message)
            warnings.warn(message, stacklevel=2)

    # ----------------------------------------------------------------------------------------- decorators

    def identity_loader(self, func: F) -> F:
        """Register the function that says who is calling: a user id string, or ``None`` for anonymous."""
        self.hooks.identity_loader = func
        return func

    def before_create(self, func: F) -> F:
        """Register a hook called with a :class:`CallRequest` before each call is created."""
        self.hooks.before_create.append(func)
        return func

    @overload
    def on(self, event_type: F) -> F: ...

    @overload
    def on(self, event_type: str | None = None) -> Callable[[F], F]: ...

    def on(self, event_type: Any = None) -> Any:
        """Register a webhook handler for one event type, or for every event without an argument."""
        if callable(event_type):
            self.hooks.handlers.append((None, event_type))
            return event_type
        if event_type is not None and event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}")

        def register(func: F) -> F:
            self.hooks.handlers.append((event_type, func))
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
            self._not_a_page_action(name.__name__)
            self.hooks.tools[name.__name__] = name
            return name
        if not isinstance(name, str) or not name:
            raise ValueError("a tool name must be a non-empty string")
        self._not_a_page_action(name)

        def register(func: F) -> F:
            self.hooks.tools[name] = func
            return func

        return register

    def _not_a_page_action(self, name: str) -> None:
        for kind, names in (("page action", self.hooks.page_actions), ("page tool", self.hooks.page_tools)):
            if name in names:
                raise ValueError(f"{name!r} is already a {kind}; a tool name is one kind of tool only")

    def page_action(self, name: str) -> Callable[[F], F]:
        """Register what the assistant may do in the caller's page when it calls the tool ``name``:
        ``f(call: PageActionCall) -> (result, action)``. ``result`` answers the tool call like a tool's;
        ``action`` (a dict of plain JSON data, or ``None`` for nothing) goes to the browser of that call
        only, as an ``hms:action`` event named ``name``. See the Page actions docs."""
        if not isinstance(name, str) or not ACTION_NAME.match(name):
            raise ValueError("a page action name must be 1-64 letters, digits, '_' or '-'")
        if name in self.hooks.tools:
            raise ValueError(f"{name!r} is already a @webcall.tool; a tool name is either one or the other")
        if name in self.hooks.page_tools:
            raise ValueError(f"{name!r} is already a page tool; a tool name is one kind of tool only")

        def register(func: F) -> F:
            if not callable(func):
                raise TypeError("@webcall.page_action(name) decorates a function")
            self.hooks.page_actions[name] = func
            return func

        return register

    def page_tool(self, name: str, *, schema: Any, timeout: float = 4) -> Callable[[F], F]:
        """Register a tool the caller's own page answers: when the assistant calls ``name``, the page's
        handler (``element.tools.register``) is asked; its answer must come within ``timeout`` seconds
        (0.5-8: HMS waits 10 s for a tool) and pass ``schema`` (a marshmallow ``Schema`` class or instance;
        unknown fields are dropped); ``f(call: PageActionCall, answer: dict)`` makes the assistant's result
        of it. See the Page actions docs."""
        if not isinstance(name, str) or not ACTION_NAME.match(name):
            raise ValueError("a page tool name must be 1-64 letters, digits, '_' or '-'")
        for kind, names in (("@webcall.tool", self.hooks.tools), ("page action", self.hooks.page_actions)):
            if name in names:
                raise ValueError(f"{name!r} is already a {kind}; a tool name is one kind of tool only")
        checked_schema = _schema(schema)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("page_tool(timeout=...) is a number of seconds")
        if not MIN_PAGE_TOOL_TIMEOUT <= timeout <= MAX_PAGE_TOOL_TIMEOUT:
            raise ValueError(
                f"page_tool(timeout=...) must be {MIN_PAGE_TOOL_TIMEOUT}-{MAX_PAGE_TOOL_TIMEOUT} "
                "seconds: HMS waits 10 s for a tool's answer"
            )

        def register(func: F) -> F:
            if not callable(func):
                raise TypeError("@webcall.page_tool(name, ...) decorates a function")
            self.hooks.page_tools[name] = PageTool(func, checked_schema, float(timeout))
            return func

        return register

    def page_targets(self, call_id: str) -> list[dict[str, str]]:
        """The elements the page of call ``call_id`` lets the assistant show (``data-hms-target``), as its
        browser last reported them: ``[{"name": ..., "label": ...}]``, names and visible labels only, never
        values; ``[]`` before the first report. For a tool that tells the assistant what it can point at (call
        it inside a request of the app, as a tool handler runs; ``StoreError`` when the store fails)."""
        return _targets.page_targets(current_state(), call_id)

    def challenge_verifier(self, func: F) -> F:
        """Register the site's own check of a create's ``challenge`` (a Turnstile or hCaptcha token, say):
        ``f(token) -> bool``. It replaces the built-in proof of work and turns the challenge on for
        ``HMS_CHALLENGE_FOR`` callers. A token it accepts is spent as submitted (refused after), so tokens
        that can be spelt several ways must be accepted once by the verifier itself."""
        self.hooks.challenge_verifier = func
        return func

    def on_feedback(self, func: F) -> F:
        """Register a handler of visitors' ratings: ``f(call_id, rating, comment, identity)``, with ``rating``
        ``"up"`` or ``"down"``, ``comment`` text or ``None``, ``identity`` ``None`` for anonymous.

        It is called when the visitor rates the call (the widget sends the thumb at once), and once more if
        they then add a comment: with the same rating and the comment. Record feedback by ``call_id``, so
        the second call updates the first; to count ratings, count only when the ``feedback_received``
        signal's ``follow_up`` is false."""
        self.hooks.feedback_handlers.append(func)
        return func


def _schema(schema: Any) -> Any:
    """``schema`` as an instance of its own that drops unknown fields, nested ones too; ``TypeError`` unless
    it is a marshmallow Schema class or instance."""
    from marshmallow import Schema

    if isinstance(schema, Schema) and not schema.many:
        only = None if schema.only is None else set(schema.only)
        schema = type(schema)(only=only, exclude=tuple(schema.exclude))
    elif not (isinstance(schema, type) and issubclass(schema, Schema)):
        raise TypeError("page_tool(schema=...) must be a marshmallow Schema class or instance")
    else:
        schema = schema()
    _exclude_unknown(schema, 0)
    return schema


def _exclude_unknown(schema: Any, depth: int) -> None:
    # A page's answer may carry more than the tool asked for (a whole cart object): that is dropped, not
    # refused, at every level, on this instance only (the owner's own schema is left as it is).
    from marshmallow import EXCLUDE, fields

    schema.unknown = EXCLUDE
    if depth > 16:
        return
    for field in schema.fields.values():
        while isinstance(field, (fields.List, fields.Dict)):
            inner = field.inner if isinstance(field, fields.List) else field.value_field
            if inner is None:
                break
            field = inner
        if isinstance(field, fields.Nested):
            _exclude_unknown(field.schema, depth + 1)
