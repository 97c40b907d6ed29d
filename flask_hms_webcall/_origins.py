"""Which pages may call the browser routes: the configured origins, or else the app's own origin, told by
its own names (``SERVER_NAME``, ``TRUSTED_HOSTS``) rather than by the Host header where it has them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask.sansio.app import App
from werkzeug.sansio.utils import host_is_trusted

from ._state import EXTENSION_KEY
from ._urls import normalize_origin

__all__ = ["allowed_origin", "warn_open_origin"]

log = logging.getLogger("flask_hms_webcall")


def allowed_origin(
    origin: str,
    allowed: tuple[str, ...] | None,
    *,
    scheme: str,
    host_url: str,
    config: Mapping[str, Any],
) -> str | None:
    """``origin`` normalised when a page of it may call, else ``None``. ``scheme`` and ``host_url`` are the
    request's; ``allowed`` is ``HMS_ALLOWED_ORIGINS`` (``None``: same origin only)."""
    normalized = normalize_origin(origin)
    if normalized is None:
        return None
    if allowed is not None:
        return normalized if normalized in allowed else None
    # Same origin only. The Host header is the client's to choose (DNS rebinding: a page on evil.example
    # resolving to this server sends Host: evil.example and Origin: http://evil.example), so the app's own
    # names, when it has any, say which hosts are ours.
    origin_scheme, _, host = normalized.partition("://")
    if origin_scheme != scheme:
        return None
    server_name, trusted = config.get("SERVER_NAME"), config.get("TRUSTED_HOSTS")
    if server_name or trusted:
        if server_name and normalize_origin(f"{origin_scheme}://{server_name}") == normalized:
            return normalized
        return normalized if trusted and host_is_trusted(host, trusted) else None
    return normalized if normalized == normalize_origin(host_url) else None


def warn_open_origin(app: App) -> None:
    """One warning at ``init_app`` when nothing but the Host header says which origin is the app's own."""
    config = app.config
    settings = app.extensions[EXTENSION_KEY].settings
    if settings.allowed_origins is None and not (
        config.get("SERVER_NAME") or config.get("TRUSTED_HOSTS") or app.debug
    ):
        log.warning(
            "HMS_ALLOWED_ORIGINS, SERVER_NAME and TRUSTED_HOSTS are all unset: the web-calls route can only "
            "compare the Origin with the Host header, which a DNS-rebinding page chooses. Set TRUSTED_HOSTS "
            "(e.g. ['example.com']) or SERVER_NAME, list your origins in HMS_ALLOWED_ORIGINS, or have the "
            "reverse proxy refuse unknown host names (deploy/nginx.conf does)."
        )
