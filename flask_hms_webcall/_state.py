"""Per-app state, ``app.extensions["hms_webcall"]``: settings, store, client, rate limiter and the site
owner's hooks (:class:`~._hooks.Hooks`). The modules that create calls and handle webhooks read the hooks from
here, never from the extension's own fields.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from ._config import Settings
from ._hooks import Hooks
from ._streams import OpenStreams
from .client import HMSClient
from .store import CallStore

if TYPE_CHECKING:
    from ._ratelimit import RateLimiter

__all__ = ["EXTENSION_KEY", "WebCallState", "current_app_object", "current_state"]

EXTENSION_KEY = "hms_webcall"


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
