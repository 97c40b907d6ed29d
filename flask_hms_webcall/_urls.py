"""The URL rules shared by the configuration, the HMS client and the origin check: what an HMS base URL may
be, and the one spelling of an origin."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import idna

from .errors import ConfigurationError, setting_name

__all__ = ["DEFAULT_API_BASE_URL", "check_base_url", "normalize_origin"]

BASE_URL = setting_name("HMS_API_BASE_URL")

DEFAULT_API_BASE_URL = "https://assistant-api.hmsovereign.com"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def check_base_url(value: Any) -> str:
    """The HMS API base URL without a trailing slash. Plain ``http`` only towards this machine (the sandbox):
    anything else would send the API key in clear text."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{BASE_URL} must be a URL such as {DEFAULT_API_BASE_URL}")
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigurationError(f"{BASE_URL} is not a valid URL") from None
    if not host or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError(f"{BASE_URL} must be scheme://host[:port][/path], without credentials")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return url
    raise ConfigurationError(
        f"{BASE_URL} must use https (plain http is allowed only for 127.0.0.1 or localhost)"
    )


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without the scheme's default port, or ``None`` when ``value``
    is not an http(s) origin (``null``, a path, garbage)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if not host.isascii():
        # A site named in Unicode (bücher.example): browsers send its ASCII form (xn--bcher-kva.example),
        # as UTS #46 maps it.
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"
