"""Per-app state, ``app.extensions["hms_webcall"]``, and the site owner's hooks as one object.

:class:`HMSWebCall <flask_hms_webcall.HMSWebCall>` fills a :class:`Hooks` through its decorators and hands the
same object to every app it is initialised on; the modules that create calls and handle webhooks read the
hooks from here, never from the extension's own fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from ._config import Settings
from ._streams import OpenStreams
from .client import HMSClient
from .store import CallStore

if TYPE_CHECKING:
    from ._actions import PageActionCall
    from ._calls import CallRequest
    from ._ratelimit import RateLimiter
    from .events import Event, ToolCalls

__all__ = ["EXTENSION_KEY", "Hooks", "WebCallState", "current_app_object", "current_state"]

EXTENSION_KEY = "hms_webcall"

FeedbackHandler = Callable[[str, str, "str | None", "str | None"], Any]


@dataclass
class Hooks:
    """Everything the site owner registered with the extension's decorators."""

    identity_loader: Callable[[], Any] | None = None
    before_create: list[Callable[[CallRequest], Any]] = field(default_factory=list)
    handlers: list[tuple[str | None, Callable[[Event], Any]]] = field(default_factory=list)
    tools: dict[str, Callable[[dict[str, Any], ToolCalls], Any]] = field(default_factory=dict)
    challenge_verifier: Callable[[str], bool] | None = None
    feedback_handlers: list[FeedbackHandler] = field(default_factory=list)
    page_actions: dict[str, Callable[[PageActionCall], Any]] = field(default_factory=dict)


class WebCallState:
    """Everything one app needs at request time."""

    def __init__(
        self,
        settings: Settings,
        hooks: Hooks,
        store: CallStore,
        client: HMSClient,
        rate_limiter: RateLimiter,
    ) -> None:
        self.settings = settings
        self.hooks = hooks
        self.store = store
        self.client = client
        self.rate_limiter = rate_limiter
        self.streams = OpenStreams()  # this process's page-action streams
        # Wall-clock time, for budget days and challenge expiry; tests replace it rather than sleep.
        self.clock: Callable[[], float] = time.time

    @property
    def limiter(self) -> Any:
        """The Flask-Limiter in use: the app's own, or the extension's."""
        return self.rate_limiter.limiter

    def identity(self) -> str | None:
        """Who is calling, from the identity loader: a user id string, or ``None`` for anonymous."""
        loader = self.hooks.identity_loader
        if loader is None:
            return None
        value = loader()
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)


def current_state() -> WebCallState:
    """The state of the app handling the current request."""
    state: WebCallState = current_app.extensions[EXTENSION_KEY]
    return state


def current_app_object() -> Flask:
    """The app handling the current request itself, not the ``current_app`` proxy: every signal is sent with
    it as the sender, and a receiver connected for one app (``connect(receiver, app)``) is matched by
    identity."""
    # Flask annotates current_app as Flask, hiding that it is werkzeug's LocalProxy, whose method this is.
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app
