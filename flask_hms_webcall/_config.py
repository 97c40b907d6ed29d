"""Every ``HMS_*`` setting in one place: names, defaults, precedence and the checks that make
``init_app`` fail fast with a :class:`~flask_hms_webcall.errors.ConfigurationError` instead of on a
visitor's first click.

Precedence, highest first: keyword arguments of ``init_app``, keyword arguments of the ``HMSWebCall``
constructor, ``app.config``, the defaults below. A keyword is the key in lower case without ``HMS_``
(``url_prefix=`` for ``HMS_URL_PREFIX``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from . import _checks as checks
from ._urls import DEFAULT_API_BASE_URL, check_base_url
from .errors import ConfigurationError, setting_name
from .hms import MAX_CALL_DURATION, MAX_CONCURRENT_CALLS, TOKEN_TTL

__all__ = [
    "CALL_TTL",
    "DEFAULTS",
    "OPTIONS",
    "Option",
    "Settings",
    "resolve_settings",
    "slot_ttl",
]


def slot_ttl(max_duration: int) -> int:
    """How long a call that may last ``max_duration`` seconds holds its concurrency slot when no webhook
    ever says it ended: it cannot outlive a token used at the last moment plus its full duration; the margin
    covers HMS's own clean-up and clock skew."""
    return TOKEN_TTL + max_duration + 60


CALL_TTL = slot_ttl(MAX_CALL_DURATION)  # the longest any call can be going


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
        "The organisation's API key (``fl_live_...``, Settings > API Keys in the HMS dashboard). Required; "
        "never sent to a browser.",
    ),
    Option(
        "HMS_API_BASE_URL", DEFAULT_API_BASE_URL, "The HMS API. ``http`` only towards 127.0.0.1/localhost."
    ),
    Option(
        "HMS_ASSISTANT_ID",
        None,
        "The saved assistant a call uses when the browser names none (a UUID). This or HMS_ASSISTANTS is "
        "required.",
    ),
    Option("HMS_ASSISTANTS", None, "Named assistants the browser may choose from: ``{name: assistant id}``."),
    Option("HMS_URL_PREFIX", "/hms", "Where the extension's routes live."),
    Option(
        "HMS_ALLOWED_ORIGINS",
        None,
        "The complete list of origins whose pages may start calls (CORS with credentials). "
        "Unset: same origin only. ``*`` is refused. A host in Unicode is matched in the ASCII (punycode) "
        "form browsers send.",
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
        "HMS_PAGE_ACTION_MAX_BYTES",
        4096,
        "The largest page action (``@webcall.page_action``) sent to a browser, in bytes of JSON (256-65536); "
        "a larger one is not sent, and the assistant is told it failed.",
    ),
    Option(
        "HMS_REQUEST_TIMEOUT",
        10,
        "Deadline in seconds for the whole request that creates a call (connect, headers and body); past it "
        "the browser gets ``504 upstream_timeout`` and the slot is released.",
    ),
)
DEFAULTS: dict[str, Any] = {option.key: option.default for option in OPTIONS}

# Keyword argument name -> config key.
OPTION_KEYS = {key[len("HMS_") :].lower(): key for key in DEFAULTS}


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one app (made by :func:`resolve_settings` only: the defaults are the
    ``OPTIONS``'). Secrets are left out of ``repr``."""

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
    max_anonymous_calls: int | None  # None: decided by whether an identity loader is registered
    anonymous_max_duration: int | None
    ipv4_prefix: int
    ipv6_prefix: int
    daily_minutes: int | None
    anonymous_daily_minutes: int | None
    user_daily_minutes: int | None
    budget_timezone: ZoneInfo
    challenge: str | None
    challenge_for: str
    challenge_complexity: int
    challenge_key: bytes = field(repr=False)
    challenge_ttl: int
    require_consent: str | None
    redis_timeout: float
    webhook_claim_ttl: int
    page_action_max_bytes: int

    def max_duration(self, anonymous: bool) -> int:
        """Seconds a call of this caller may last once joined."""
        if anonymous and self.anonymous_max_duration is not None:
            return self.anonymous_max_duration
        return MAX_CALL_DURATION

    def slot_ttl(self, anonymous: bool) -> int:
        """How long a call of this caller holds its slot when no webhook ever says it ended."""
        return slot_ttl(self.max_duration(anonymous))


CHALLENGES = ("altcha",)
CHALLENGE_SCOPES = ("anonymous", "everyone")


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

    def integer(key: str, **bounds: Any) -> int:
        return checks.integer(get(key), key, **bounds)

    def optional_integer(key: str, **bounds: Any) -> int | None:
        return checks.optional_integer(get(key), key, **bounds)

    assistant_id = checks.optional_uuid(get("HMS_ASSISTANT_ID"), "HMS_ASSISTANT_ID")
    assistants = checks.assistants(get("HMS_ASSISTANTS"))
    if assistant_id is None and not assistants:
        raise ConfigurationError(
            f"no assistant: set {setting_name('HMS_ASSISTANT_ID')} (the saved assistant to use) or "
            "HMS_ASSISTANTS"
        )
    max_concurrent = integer("HMS_MAX_CONCURRENT_CALLS", minimum=1)
    max_anonymous = optional_integer("HMS_MAX_ANONYMOUS_CALLS", minimum=0)
    if max_anonymous is not None and max_anonymous > max_concurrent:
        raise ConfigurationError(
            f"{setting_name('HMS_MAX_ANONYMOUS_CALLS')} cannot be more than HMS_MAX_CONCURRENT_CALLS"
        )
    challenge = checks.choice(get("HMS_CHALLENGE"), "HMS_CHALLENGE", CHALLENGES, optional=True)
    return Settings(
        api_key=checks.api_key(get("HMS_API_KEY")),
        api_base_url=check_base_url(get("HMS_API_BASE_URL")),
        assistant_id=assistant_id,
        assistants=assistants,
        url_prefix=checks.url_prefix(get("HMS_URL_PREFIX")),
        allowed_origins=checks.allowed_origins(get("HMS_ALLOWED_ORIGINS")),
        require_identity=checks.boolean(get("HMS_REQUIRE_IDENTITY"), "HMS_REQUIRE_IDENTITY"),
        rate_limit=checks.rate_limit(get("HMS_RATE_LIMIT")),
        max_calls_per_user=integer("HMS_MAX_CALLS_PER_USER", minimum=1),
        max_concurrent_calls=max_concurrent,
        storage_uri=checks.storage_uri(get("HMS_STORAGE_URI")),
        webhook_secrets=checks.webhook_secrets(get("HMS_WEBHOOK_SECRET")),
        webhook_tolerance=integer("HMS_WEBHOOK_TOLERANCE", minimum=1),
        webhook_max_bytes=integer("HMS_WEBHOOK_MAX_BYTES", minimum=1024),
        request_timeout=checks.seconds(get("HMS_REQUEST_TIMEOUT"), "HMS_REQUEST_TIMEOUT", maximum=120),
        max_anonymous_calls=max_anonymous,
        anonymous_max_duration=optional_integer(
            "HMS_ANONYMOUS_MAX_DURATION", minimum=1, maximum=MAX_CALL_DURATION
        ),
        ipv4_prefix=integer("HMS_IPV4_PREFIX", minimum=0, maximum=32),
        ipv6_prefix=integer("HMS_IPV6_PREFIX", minimum=0, maximum=128),
        daily_minutes=optional_integer("HMS_DAILY_MINUTES", minimum=0),
        anonymous_daily_minutes=optional_integer("HMS_ANONYMOUS_DAILY_MINUTES", minimum=0),
        user_daily_minutes=optional_integer("HMS_USER_DAILY_MINUTES", minimum=0),
        budget_timezone=checks.timezone(get("HMS_BUDGET_TIMEZONE")),
        challenge=challenge,
        challenge_for=checks.choice(get("HMS_CHALLENGE_FOR"), "HMS_CHALLENGE_FOR", CHALLENGE_SCOPES),
        challenge_complexity=integer("HMS_CHALLENGE_COMPLEXITY", minimum=1000, maximum=10_000_000),
        challenge_key=checks.challenge_key(
            get("HMS_CHALLENGE_KEY"), config.get("SECRET_KEY"), required=challenge
        ),
        challenge_ttl=integer("HMS_CHALLENGE_TTL", minimum=10, maximum=24 * 3600),
        require_consent=checks.consent_version(get("HMS_REQUIRE_CONSENT")),
        redis_timeout=checks.seconds(get("HMS_REDIS_TIMEOUT"), "HMS_REDIS_TIMEOUT", maximum=60),
        webhook_claim_ttl=integer("HMS_WEBHOOK_CLAIM_TTL", minimum=1, maximum=3600),
        page_action_max_bytes=integer("HMS_PAGE_ACTION_MAX_BYTES", minimum=256, maximum=65536),
    )
