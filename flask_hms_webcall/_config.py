"""Every ``HMS_*`` setting in one place: names, defaults, precedence and the checks that make
``init_app`` fail fast with a :class:`~flask_hms_webcall.errors.ConfigurationError` instead of on a
visitor's first click.

Precedence, highest first: keyword arguments of ``init_app``, keyword arguments of the ``HMSWebCall``
constructor, ``app.config``, the defaults below. A keyword is the key in lower case without ``HMS_``
(``url_prefix=`` for ``HMS_URL_PREFIX``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = [
    "CALL_TTL",
    "DEFAULTS",
    "MAX_DURATION",
    "TOKEN_TTL",
    "Settings",
    "normalize_origin",
    "resolve_settings",
]

DEFAULT_API_BASE_URL = "https://assistant-api.hmsovereign.com"

# The limits of the HMS Web Calls page.
TOKEN_TTL = 300  # seconds a token may wait before it is used to join
MAX_DURATION = 300  # seconds a call may last once joined
# How long a call holds its concurrency slot when no webhook ever says it ended: it cannot outlive a token
# used at the last moment plus the full duration; the margin covers HMS's own clean-up and clock skew.
CALL_TTL = TOKEN_TTL + MAX_DURATION + 60

DEFAULTS: dict[str, Any] = {
    "HMS_API_KEY": None,
    "HMS_API_BASE_URL": DEFAULT_API_BASE_URL,
    "HMS_ASSISTANT_ID": None,
    "HMS_ASSISTANTS": None,
    "HMS_URL_PREFIX": "/hms",
    "HMS_ALLOWED_ORIGINS": None,
    "HMS_REQUIRE_IDENTITY": False,
    "HMS_RATE_LIMIT": "5 per minute;30 per day",
    "HMS_MAX_CALLS_PER_USER": 1,
    "HMS_MAX_CONCURRENT_CALLS": 3,
    "HMS_STORAGE_URI": "memory://",
    "HMS_WEBHOOK_SECRET": None,
    "HMS_WEBHOOK_TOLERANCE": 300,
    "HMS_WEBHOOK_MAX_BYTES": 1024 * 1024,
    "HMS_REQUEST_TIMEOUT": 10,
}

# Keyword argument name -> config key.
OPTION_KEYS = {key[len("HMS_") :].lower(): key for key in DEFAULTS}

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ASSISTANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")  # \Z: "$" allows a trailing newline
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one app. Secrets are left out of ``repr``."""

    api_key: str = field(repr=False)
    api_base_url: str
    assistant_id: str | None
    assistants: Mapping[str, str]
    url_prefix: str
    allowed_origins: tuple[str, ...] | None  # None: same origin only
    require_identity: bool
    rate_limit: str
    max_calls_per_user: int
    max_concurrent_calls: int
    storage_uri: str = field(repr=False)  # a Redis URL may carry a password
    webhook_secrets: tuple[str, ...] = field(repr=False)
    webhook_tolerance: int
    webhook_max_bytes: int
    request_timeout: float
    call_ttl: float = CALL_TTL


def resolve_settings(
    config: Mapping[str, Any],
    constructor_options: Mapping[str, Any] | None = None,
    init_options: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources by precedence and check every value; :class:`ConfigurationError` on the first bad
    one, naming the key (never its value, which may be a secret)."""
    options: dict[str, Any] = {}
    for source in (constructor_options or {}, init_options or {}):
        for name, value in source.items():
            if name not in OPTION_KEYS:
                raise TypeError(f"unknown option {name!r}; expected one of: {', '.join(sorted(OPTION_KEYS))}")
            options[OPTION_KEYS[name]] = value

    def get(key: str) -> Any:
        if key in options:
            return options[key]
        return config.get(key, DEFAULTS[key])

    assistant_id = _optional_uuid(get("HMS_ASSISTANT_ID"), "HMS_ASSISTANT_ID")
    assistants = _assistants(get("HMS_ASSISTANTS"))
    if assistant_id is None and not assistants:
        raise ConfigurationError(
            "no assistant: set HMS_ASSISTANT_ID (the saved assistant to use) or HMS_ASSISTANTS"
        )
    return Settings(
        api_key=_api_key(get("HMS_API_KEY")),
        api_base_url=check_base_url(get("HMS_API_BASE_URL")),
        assistant_id=assistant_id,
        assistants=assistants,
        url_prefix=_url_prefix(get("HMS_URL_PREFIX")),
        allowed_origins=_allowed_origins(get("HMS_ALLOWED_ORIGINS")),
        require_identity=_bool(get("HMS_REQUIRE_IDENTITY"), "HMS_REQUIRE_IDENTITY"),
        rate_limit=_rate_limit(get("HMS_RATE_LIMIT")),
        max_calls_per_user=_int(get("HMS_MAX_CALLS_PER_USER"), "HMS_MAX_CALLS_PER_USER", minimum=1),
        max_concurrent_calls=_int(get("HMS_MAX_CONCURRENT_CALLS"), "HMS_MAX_CONCURRENT_CALLS", minimum=1),
        storage_uri=_storage_uri(get("HMS_STORAGE_URI")),
        webhook_secrets=_secrets(get("HMS_WEBHOOK_SECRET")),
        webhook_tolerance=_int(get("HMS_WEBHOOK_TOLERANCE"), "HMS_WEBHOOK_TOLERANCE", minimum=1),
        webhook_max_bytes=_int(get("HMS_WEBHOOK_MAX_BYTES"), "HMS_WEBHOOK_MAX_BYTES", minimum=1024),
        request_timeout=_timeout(get("HMS_REQUEST_TIMEOUT")),
    )


def check_base_url(value: Any) -> str:
    """The HMS API base URL without a trailing slash. Plain ``http`` only towards this machine (the sandbox):
    anything else would send the API key in clear text."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("HMS_API_BASE_URL must be a URL such as " + DEFAULT_API_BASE_URL)
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigurationError("HMS_API_BASE_URL is not a valid URL") from None
    if not host or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigurationError("HMS_API_BASE_URL must be scheme://host[:port][/path], without credentials")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and host in LOCAL_HOSTS:
        return url
    raise ConfigurationError(
        "HMS_API_BASE_URL must use https (plain http is allowed only for 127.0.0.1 or localhost)"
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
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def _api_key(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("HMS_API_KEY is not set (Settings > API Keys in the HMS dashboard)")
    if value != value.strip() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError("HMS_API_KEY contains whitespace or control characters")
    return value


def _optional_uuid(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ConfigurationError(f"{key} must be an assistant id (a UUID)") from None


def _assistants(value: Any) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError("HMS_ASSISTANTS must be a dict of name -> assistant id")
    result: dict[str, str] = {}
    for name, assistant_id in value.items():
        if not isinstance(name, str) or not ASSISTANT_NAME.match(name):
            raise ConfigurationError(
                "HMS_ASSISTANTS names must be 1-64 characters of letters, digits, '_', '-' or '.'"
            )
        checked = _optional_uuid(assistant_id, f"HMS_ASSISTANTS[{name!r}]")
        if checked is None:
            raise ConfigurationError(f"HMS_ASSISTANTS[{name!r}] must be an assistant id (a UUID)")
        result[name] = checked
    return result


def _url_prefix(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigurationError("HMS_URL_PREFIX must be a string such as '/hms'")
    prefix = "/" + value.strip().strip("/")
    if prefix == "/" or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
        raise ConfigurationError("HMS_URL_PREFIX must be a non-empty path such as '/hms'")
    return prefix


def _allowed_origins(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items: Iterable[Any]
    if isinstance(value, str):
        items = [item for item in re.split(r"[\s,]+", value) if item]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ConfigurationError(
            "HMS_ALLOWED_ORIGINS must be a list of origins such as 'https://example.com'"
        )
    origins = []
    for item in items:
        if item == "*":
            raise ConfigurationError(
                "HMS_ALLOWED_ORIGINS cannot be '*': starting a call spends credits, list the sites allowed to"
            )
        origin = normalize_origin(item) if isinstance(item, str) else None
        if origin is None:
            raise ConfigurationError(
                f"HMS_ALLOWED_ORIGINS: {item!r} is not an origin (scheme://host[:port], no path)"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{key} must be True or False")
    return value


def _int(value: Any, key: str, *, minimum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{key} must be an integer >= {minimum}")
    return value


def _timeout(value: Any) -> float:
    try:
        timeout = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError("HMS_REQUEST_TIMEOUT must be a number of seconds") from None
    if isinstance(value, bool) or not 0 < timeout <= 120:
        raise ConfigurationError("HMS_REQUEST_TIMEOUT must be between 0 and 120 seconds")
    return timeout


def _rate_limit(value: Any) -> str:
    from limits import parse_many

    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            "HMS_RATE_LIMIT must be a rate limit string such as '5 per minute;30 per day'"
        )
    try:
        parse_many(value)
    except ValueError:
        raise ConfigurationError(
            "HMS_RATE_LIMIT is not a valid rate limit string (example: '5 per minute;30 per day')"
        ) from None
    return value


def _storage_uri(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("HMS_STORAGE_URI must be 'memory://' or a redis:// URL")
    return value.strip()


def _secrets(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        return tuple(s for s in value if s)
    raise ConfigurationError("HMS_WEBHOOK_SECRET must be a string or a list of strings (during rotation)")
