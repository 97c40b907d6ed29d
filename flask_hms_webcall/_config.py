"""Every ``HMS_*`` setting in one place: names, defaults, precedence and the checks that make
``init_app`` fail fast with a :class:`~flask_hms_webcall.errors.ConfigurationError` instead of on a
visitor's first click.

Precedence, highest first: keyword arguments of ``init_app``, keyword arguments of the ``HMSWebCall``
constructor, ``app.config``, the defaults below. A keyword is the key in lower case without ``HMS_``
(``url_prefix=`` for ``HMS_URL_PREFIX``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigurationError
from .hms import MAX_CALL_DURATION, MAX_CONCURRENT_CALLS, TOKEN_TTL

__all__ = [
    "CALL_TTL",
    "DEFAULTS",
    "OPTIONS",
    "Option",
    "MAX_DURATION",
    "TOKEN_TTL",
    "Settings",
    "normalize_origin",
    "resolve_settings",
]

DEFAULT_API_BASE_URL = "https://assistant-api.hmsovereign.com"

MAX_DURATION = MAX_CALL_DURATION
# How long a call holds its concurrency slot when no webhook ever says it ended: it cannot outlive a token
# used at the last moment plus the full duration; the margin covers HMS's own clean-up and clock skew.
CALL_TTL = TOKEN_TTL + MAX_DURATION + 60


@dataclass(frozen=True)
class Option:
    """One ``HMS_*`` setting: its key, its default and what it does (the docs' reference is made of these)."""

    key: str
    default: Any
    doc: str


OPTIONS: tuple[Option, ...] = (
    Option(
        "HMS_API_KEY",
        None,
        "The organisation's API key (``fl_live_...``). Required; never sent to a browser.",
    ),
    Option(
        "HMS_API_BASE_URL", DEFAULT_API_BASE_URL, "The HMS API. ``http`` only towards 127.0.0.1/localhost."
    ),
    Option("HMS_ASSISTANT_ID", None, "The saved assistant a call uses when the browser names none (a UUID)."),
    Option("HMS_ASSISTANTS", None, "Named assistants the browser may choose from: ``{name: assistant id}``."),
    Option("HMS_URL_PREFIX", "/hms", "Where the extension's routes live."),
    Option(
        "HMS_ALLOWED_ORIGINS",
        None,
        "The complete list of origins whose pages may start calls (CORS with credentials). "
        "Unset: same origin only. ``*`` is refused.",
    ),
    Option("HMS_REQUIRE_IDENTITY", False, "Refuse anonymous visitors (``401 unauthenticated``)."),
    Option(
        "HMS_RATE_LIMIT",
        "5 per minute;30 per day",
        "Call attempts per caller (a user id, or an anonymous visitor's network), as a Flask-Limiter string.",
    ),
    Option("HMS_MAX_CALLS_PER_USER", 1, "Concurrent calls one caller may hold."),
    Option(
        "HMS_MAX_CONCURRENT_CALLS",
        MAX_CONCURRENT_CALLS,
        "Concurrent calls of the whole site; HMS allows 3 per organisation.",
    ),
    Option(
        "HMS_MAX_ANONYMOUS_CALLS",
        None,
        "How many of the concurrent slots anonymous visitors may hold together. Unset: "
        "``HMS_MAX_CONCURRENT_CALLS - 1`` when an identity loader is registered (a signed-in user can "
        "always get the last slot), otherwise all of them.",
    ),
    Option(
        "HMS_ANONYMOUS_MAX_DURATION",
        None,
        "Seconds an anonymous visitor's call may last (1-300): sent as "
        "``assistant_override.max_duration_seconds``; their slot and budget use it. Unset: HMS's 300 s.",
    ),
    Option("HMS_IPV4_PREFIX", 32, "Anonymous visitors on IPv4 are keyed by this network prefix length."),
    Option(
        "HMS_IPV6_PREFIX",
        64,
        "Anonymous visitors on IPv6 are keyed by this network prefix length: one /64 is one visitor.",
    ),
    Option("HMS_DAILY_MINUTES", None, "Call minutes the whole site may use per day. Unset: no cap."),
    Option(
        "HMS_ANONYMOUS_DAILY_MINUTES", None, "Call minutes all anonymous visitors together may use per day."
    ),
    Option(
        "HMS_USER_DAILY_MINUTES",
        None,
        "Call minutes each caller (a user id, or an anonymous visitor's network) may use per day.",
    ),
    Option("HMS_BUDGET_TIMEZONE", "UTC", "The time zone (IANA name) whose midnight starts a budget day."),
    Option("HMS_CHALLENGE", None, '``"altcha"``: a proof-of-work challenge before a call is created.'),
    Option("HMS_CHALLENGE_FOR", "anonymous", 'Who must solve it: ``"anonymous"`` or ``"everyone"``.'),
    Option(
        "HMS_CHALLENGE_COMPLEXITY",
        50_000,
        "The challenge's ``maxnumber``: the work is uniform in 0..maxnumber SHA-256 hashes.",
    ),
    Option(
        "HMS_CHALLENGE_KEY",
        None,
        "The HMAC key that signs challenges. Unset: derived from the app's ``SECRET_KEY``.",
    ),
    Option("HMS_CHALLENGE_TTL", 300, "Seconds a challenge may be solved and used in."),
    Option(
        "HMS_REQUIRE_CONSENT",
        None,
        'A consent text version: creates without ``"consent": "<version>"`` are refused '
        "(``400 consent_required``); the version and time go into the call's metadata.",
    ),
    Option("HMS_STORAGE_URI", "memory://", "The shared store: ``memory://`` (one process) or a Redis URL."),
    Option(
        "HMS_REDIS_TIMEOUT",
        2.0,
        "Seconds any Redis connect or command may take before the route answers 503.",
    ),
    Option("HMS_WEBHOOK_SECRET", None, "The webhook secret, or a list of secrets during rotation."),
    Option("HMS_WEBHOOK_TOLERANCE", 300, "Seconds a webhook's timestamp may differ from now, either way."),
    Option("HMS_WEBHOOK_MAX_BYTES", 1024 * 1024, "The largest webhook body read."),
    Option(
        "HMS_WEBHOOK_CLAIM_TTL",
        15,
        "Seconds a delivery being handled blocks its retries: a worker that died mid-handler "
        "frees it after this.",
    ),
    Option(
        "HMS_REQUEST_TIMEOUT",
        10,
        "Deadline in seconds for the whole request that creates a call (connect, headers and body).",
    ),
)
DEFAULTS: dict[str, Any] = {option.key: option.default for option in OPTIONS}

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
    max_anonymous_calls: int | None = None  # None: decided by whether an identity loader is registered
    anonymous_max_duration: int | None = None
    ipv4_prefix: int = 32
    ipv6_prefix: int = 64
    daily_minutes: int | None = None
    anonymous_daily_minutes: int | None = None
    user_daily_minutes: int | None = None
    budget_timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    challenge: str | None = None
    challenge_for: str = "anonymous"
    challenge_complexity: int = 50_000
    challenge_key: bytes = field(default=b"", repr=False)
    challenge_ttl: int = 300
    require_consent: str | None = None
    redis_timeout: float = 2.0
    webhook_claim_ttl: int = 15

    def max_duration(self, anonymous: bool) -> int:
        """Seconds a call of this caller may last once joined."""
        if anonymous and self.anonymous_max_duration is not None:
            return self.anonymous_max_duration
        return MAX_DURATION

    def slot_ttl(self, anonymous: bool) -> float:
        """How long a call holds its slot when no webhook ever says it ended."""
        return TOKEN_TTL + self.max_duration(anonymous) + 60


CHALLENGES = ("altcha",)
CHALLENGE_SCOPES = ("anonymous", "everyone")
MAX_CONSENT_VERSION_LENGTH = 40


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
    max_concurrent = _int(get("HMS_MAX_CONCURRENT_CALLS"), "HMS_MAX_CONCURRENT_CALLS", minimum=1)
    max_anonymous = _optional_int(get("HMS_MAX_ANONYMOUS_CALLS"), "HMS_MAX_ANONYMOUS_CALLS", minimum=0)
    if max_anonymous is not None and max_anonymous > max_concurrent:
        raise ConfigurationError("HMS_MAX_ANONYMOUS_CALLS cannot be more than HMS_MAX_CONCURRENT_CALLS")
    challenge = _choice(get("HMS_CHALLENGE"), "HMS_CHALLENGE", CHALLENGES, optional=True)
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
        max_concurrent_calls=max_concurrent,
        storage_uri=_storage_uri(get("HMS_STORAGE_URI")),
        webhook_secrets=_secrets(get("HMS_WEBHOOK_SECRET")),
        webhook_tolerance=_int(get("HMS_WEBHOOK_TOLERANCE"), "HMS_WEBHOOK_TOLERANCE", minimum=1),
        webhook_max_bytes=_int(get("HMS_WEBHOOK_MAX_BYTES"), "HMS_WEBHOOK_MAX_BYTES", minimum=1024),
        request_timeout=_seconds(get("HMS_REQUEST_TIMEOUT"), "HMS_REQUEST_TIMEOUT", maximum=120),
        max_anonymous_calls=max_anonymous,
        anonymous_max_duration=_optional_int(
            get("HMS_ANONYMOUS_MAX_DURATION"), "HMS_ANONYMOUS_MAX_DURATION", minimum=1, maximum=MAX_DURATION
        ),
        ipv4_prefix=_int(get("HMS_IPV4_PREFIX"), "HMS_IPV4_PREFIX", minimum=0, maximum=32),
        ipv6_prefix=_int(get("HMS_IPV6_PREFIX"), "HMS_IPV6_PREFIX", minimum=0, maximum=128),
        daily_minutes=_optional_int(get("HMS_DAILY_MINUTES"), "HMS_DAILY_MINUTES", minimum=0),
        anonymous_daily_minutes=_optional_int(
            get("HMS_ANONYMOUS_DAILY_MINUTES"), "HMS_ANONYMOUS_DAILY_MINUTES", minimum=0
        ),
        user_daily_minutes=_optional_int(get("HMS_USER_DAILY_MINUTES"), "HMS_USER_DAILY_MINUTES", minimum=0),
        budget_timezone=_timezone(get("HMS_BUDGET_TIMEZONE")),
        challenge=challenge,
        challenge_for=_choice(get("HMS_CHALLENGE_FOR"), "HMS_CHALLENGE_FOR", CHALLENGE_SCOPES),
        challenge_complexity=_int(
            get("HMS_CHALLENGE_COMPLEXITY"), "HMS_CHALLENGE_COMPLEXITY", minimum=1000, maximum=10_000_000
        ),
        challenge_key=_challenge_key(get("HMS_CHALLENGE_KEY"), config.get("SECRET_KEY"), required=challenge),
        challenge_ttl=_int(get("HMS_CHALLENGE_TTL"), "HMS_CHALLENGE_TTL", minimum=10, maximum=24 * 3600),
        require_consent=_consent_version(get("HMS_REQUIRE_CONSENT")),
        redis_timeout=_seconds(get("HMS_REDIS_TIMEOUT"), "HMS_REDIS_TIMEOUT", maximum=60),
        webhook_claim_ttl=_int(
            get("HMS_WEBHOOK_CLAIM_TTL"), "HMS_WEBHOOK_CLAIM_TTL", minimum=1, maximum=3600
        ),
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
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
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


def _int(value: Any, key: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{key} must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{key} must be an integer from {minimum} to {maximum}")
    return value


def _optional_int(value: Any, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    return _int(value, key, minimum=minimum, maximum=maximum)


def _seconds(value: Any, key: str, *, maximum: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{key} must be a number of seconds") from None
    if isinstance(value, bool) or not 0 < seconds <= maximum:
        raise ConfigurationError(f"{key} must be between 0 and {maximum:g} seconds")
    return seconds


def _choice(value: Any, key: str, choices: tuple[str, ...], *, optional: bool = False) -> Any:
    if optional and (value is None or value == ""):
        return None
    if value not in choices:
        raise ConfigurationError(f"{key} must be one of: {', '.join(repr(c) for c in choices)}")
    return value


def _timezone(value: Any) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError("HMS_BUDGET_TIMEZONE must be a time zone name such as 'Europe/Amsterdam'")
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            "HMS_BUDGET_TIMEZONE is not a known time zone name (such as 'UTC' or 'Europe/Amsterdam')"
        ) from None


def _challenge_key(value: Any, secret_key: Any, *, required: str | None) -> bytes:
    if value is not None and value != "":
        if not isinstance(value, (str, bytes)) or len(value) < 16:
            raise ConfigurationError("HMS_CHALLENGE_KEY must be a string of at least 16 characters")
        return value.encode() if isinstance(value, str) else value
    if isinstance(secret_key, (str, bytes)) and secret_key:
        raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
        # A key of its own, so a challenge signature can never be replayed as anything the app signs.
        return hmac.new(raw, b"flask-hms-webcall challenge key", hashlib.sha256).digest()
    if required:
        raise ConfigurationError("HMS_CHALLENGE is on but neither HMS_CHALLENGE_KEY nor SECRET_KEY is set")
    return b""


def _consent_version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # FLASK_HMS_REQUIRE_CONSENT=2 arrives as a number through from_prefixed_env
    if not isinstance(value, str) or len(value) > MAX_CONSENT_VERSION_LENGTH or not value.strip():
        raise ConfigurationError(
            f"HMS_REQUIRE_CONSENT must be a consent version of 1-{MAX_CONSENT_VERSION_LENGTH} characters"
        )
    return value


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
    if isinstance(value, int) and not isinstance(value, bool):
        # Flask's from_prefixed_env parses FLASK_HMS_WEBHOOK_SECRET=123456 as a number; its digits are the
        # secret (an int keeps every digit; a float would not, and is refused below).
        value = str(value)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        return tuple(s for s in value if s)
    raise ConfigurationError("HMS_WEBHOOK_SECRET must be a string or a list of strings (during rotation)")
