"""The rate limit on call attempts, counted by Flask-Limiter: the app's own limiter when it has one, else one
of the extension's on ``HMS_STORAGE_URI`` that limits nothing by itself."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, request
from limits import parse_many

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.util import WindowStats

from ._config import Settings
from .errors import BrowserError, ConfigurationError, setting_name

__all__ = ["RATE_LIMIT_NAMESPACE", "RateLimiter", "own_limiter"]

log = logging.getLogger("flask_hms_webcall")

RATE_LIMIT_NAMESPACE = "hms_webcall"


class RateLimiter:
    """Counts call attempts per caller against ``HMS_RATE_LIMIT`` in the limiter's storage."""

    def __init__(self, limiter: Any, settings: Settings) -> None:
        self.limiter = limiter
        self._scope = settings.url_prefix
        # Shortest window first: the first limit hit names the soonest useful retry.
        self._limits = sorted(parse_many(settings.rate_limit), key=lambda item: item.get_expiry())

    def hit(self, caller_key: str) -> None:
        """Count one attempt of ``caller_key``; :class:`BrowserError` ``rate_limited`` when over a limit."""
        limiter = self.limiter
        if not getattr(limiter, "enabled", True):
            return  # RATELIMIT_ENABLED = False: the owner switched rate limiting off
        if not getattr(limiter, "initialized", False):
            log.error(
                "the Flask-Limiter given to HMSWebCall was never initialised: call limiter.init_app(app)"
            )
            raise BrowserError("misconfigured")
        strategy = limiter.limiter
        identifiers = (RATE_LIMIT_NAMESPACE, self._scope, caller_key)
        try:
            for item in self._limits:
                if not strategy.hit(item, *identifiers):
                    reset = strategy.get_window_stats(item, *identifiers).reset_time
                    raise BrowserError("rate_limited", retry_after=max(1, math.ceil(reset - time.time())))
        except BrowserError:
            raise
        except Exception:
            log.exception("the rate limit storage failed")
            raise BrowserError("unavailable") from None


def attach(
    app: Flask, limiter: Any, settings: Settings, blueprint: Blueprint, webhooks_view: Any
) -> RateLimiter:
    """The rate limiter for ``app``: ``limiter`` (the app's own) with the extension's routes exempted from its
    default limits, or one of the extension's own."""
    if limiter is None:
        return RateLimiter(own_limiter(app, settings), settings)
    # The route has its own limit (HMS_RATE_LIMIT); the app's default limits are not applied on top. HMS's
    # webhook deliveries must never be refused by a limit meant for visitors, and an application-wide limit
    # is one too: visitors could use it up and lock the webhooks out.
    from flask_limiter import ExemptionScope

    limiter.exempt(blueprint, flags=ExemptionScope.DEFAULT)
    limiter.exempt(webhooks_view)  # default flags: application, default and meta limits
    # Exempt or not, Flask-Limiter would still work out which of its limits apply to each delivery; a
    # request filter stops it at the first step.
    webhooks_endpoint = f"{blueprint.name}.webhooks"
    limiter.request_filter(lambda: request.endpoint == webhooks_endpoint)
    return RateLimiter(limiter, settings)


class _OwnLimiter:
    """The extension's own counter: a ``limits`` storage and fixed-window strategy, shaped like the part of
    a Flask-Limiter that :class:`RateLimiter` uses. A Flask-Limiter would add hooks to every request of the
    app, webhooks included, only to limit nothing there."""

    initialized = True

    def __init__(self, strategy: Any, enabled: bool) -> None:
        self.limiter = strategy
        self.enabled = enabled


def own_limiter(app: Flask, settings: Settings) -> Any:
    """The extension's own limit counter on ``HMS_STORAGE_URI``. It counts only ``HMS_RATE_LIMIT``: the app's
    ``RATELIMIT_DEFAULT``/``RATELIMIT_APPLICATION`` are not applied a second time to every route, and
    ``RATELIMIT_ENABLED = False`` switches it off."""
    from limits.errors import ConfigurationError as LimitsConfigurationError
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    uri = settings.storage_uri
    if uri.startswith("unix://"):  # the same Redis socket, spelled the way the limits library wants it
        uri = "redis+unix://" + uri[len("unix://") :]
    options: dict[str, Any] = {}
    if not uri.startswith("memory://"):
        # Without these a frozen Redis would hang every create for as long as it stays frozen.
        from .store.redis import SENTINEL_SCHEME, connection_options

        options = connection_options(settings.redis_timeout)
        if uri.lower().startswith(SENTINEL_SCHEME):  # the Sentinels' own connections need them too
            options["sentinel_kwargs"] = connection_options(settings.redis_timeout)
    enabled = bool(app.config.get("RATELIMIT_ENABLED", True))
    if uri.startswith("memory://"):
        return _OwnLimiter(_MemoryWindows(), enabled)
    try:
        storage = storage_from_string(uri, **options)
    except LimitsConfigurationError as exc:
        raise ConfigurationError(
            f"{setting_name('HMS_STORAGE_URI')} cannot be used for rate limiting: {exc}"
        ) from None
    return _OwnLimiter(FixedWindowRateLimiter(storage), enabled)


class _MemoryWindows:
    """Fixed windows counted in this process, for ``memory://``: the ``hit`` and ``get_window_stats`` of a
    ``limits`` strategy. limits' own memory storage starts a timer thread for nearly every hit (its 10 ms
    expiry sweep ends, and the next hit starts another), which costs more than the rest of a create."""

    _SWEEP_EVERY = 60.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, list[float]] = {}  # key -> [window end, hits]
        self._sweep_at = 0.0

    def _window(self, key: str, expiry: float, now: float) -> list[float]:
        if now >= self._sweep_at:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
            self._sweep_at = now + self._SWEEP_EVERY
        window = self._windows.get(key)
        if window is None or window[0] <= now:
            window = self._windows[key] = [now + expiry, 0]
        return window

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        now = time.time()
        with self._lock:
            window = self._window(item.key_for(*identifiers), item.get_expiry(), now)
            window[1] += cost  # refused attempts count too, as in limits' fixed window
            return window[1] <= item.amount

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        from limits.util import WindowStats

        now = time.time()
        with self._lock:
            window = self._window(item.key_for(*identifiers), item.get_expiry(), now)
            return WindowStats(window[0], max(0, item.amount - int(window[1])))
