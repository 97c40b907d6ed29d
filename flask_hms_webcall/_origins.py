"""Which pages may call the browser routes: the configured origins, or else the app's own origin, told by
its own names (``SERVER_NAME``, ``TRUSTED_HOSTS``) rather than by the Host header where it has them."""

from __future__ import annotations

import ipaddress
import logging
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask.sansio.app import App
from werkzeug.sansio.utils import host_is_trusted

from ._state import EXTENSION_KEY
from ._urls import normalize_origin

__all__ = ["allowed_origin", "is_loopback_host", "warn_open_origin"]

log = logging.getLogger("flask_hms_webcall")
# The apps already warned about (weak: a test suite makes and drops many apps).
_warned: weakref.WeakSet[App] = weakref.WeakSet()


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


def warn_open_origin(app: App, host: str) -> None:
    """One warning per app, at the first browser request whose origin only the Host header can vouch for.

    A DNS-rebinding page has a host name of its own, so a loopback Host (``localhost``, ``*.localhost``,
    ``127.0.0.1``, ``[::1]``: the names an outside page cannot take) is the page's true one: a local run,
    ``make demo`` or ``flask run`` opened at its printed URL, needs nothing more and is not warned about.
    Any other Host, with nothing naming the app's own, is where the rebinding gap is real: in production."""
    config = app.config
    settings = app.extensions[EXTENSION_KEY].settings
    if (
        settings.allowed_origins is not None
        or config.get("SERVER_NAME")
        or config.get("TRUSTED_HOSTS")
        or app in _warned  # before parsing the Host: this runs on every browser request
        or is_loopback_host(host)
    ):
        return
    _warned.add(app)
    log.warning(
        "HMS_ALLOWED_ORIGINS, SERVER_NAME and TRUSTED_HOSTS are all unset, and a page came from %r: the "
        "web-calls route can only compare the Origin with the Host header, which a DNS-rebinding page "
        "chooses. Set TRUSTED_HOSTS (e.g. ['example.com']) or SERVER_NAME, list your origins in "
        "HMS_ALLOWED_ORIGINS, or have the reverse proxy refuse unknown host names (deploy/nginx.conf does).",
        host,
    )


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a Host header: name or address, maybe a port) names this machine's loopback."""
    try:
        name = urlsplit("//" + host).hostname or ""
    except ValueError:
        return False
    if name == "localhost" or name.endswith(".localhost"):
        return True  # RFC 6761: browsers map it to loopback themselves, so no DNS answer can rebind it
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
