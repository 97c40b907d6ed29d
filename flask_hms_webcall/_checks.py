"""Checks of single ``HMS_*`` values: each returns the value in its resolved form or raises
:class:`~flask_hms_webcall.errors.ConfigurationError` naming the key (never the value, which may be a secret).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._urls import normalize_origin
from .errors import ConfigurationError, setting_name

ASSISTANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")  # \Z: "$" allows a trailing newline
MAX_CONSENT_VERSION_LENGTH = 40


def api_key(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{setting_name('HMS_API_KEY')} is not set (Settings > API Keys in the HMS dashboard)"
        )
    if value != value.strip() or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigurationError(f"{setting_name('HMS_API_KEY')} contains whitespace or control characters")
    return value


def optional_uuid(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ConfigurationError(f"{setting_name(key)} must be an assistant id (a UUID)") from None


def assistants(value: Any) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{setting_name('HMS_ASSISTANTS')} must be a dict of name -> assistant id")
    result: dict[str, str] = {}
    for name, assistant_id in value.items():
        if not isinstance(name, str) or not ASSISTANT_NAME.match(name):
            raise ConfigurationError(
                f"{setting_name('HMS_ASSISTANTS')}: names must be 1-64 characters of letters, digits, "
                "'_', '-' or '.'"
            )
        checked = optional_uuid(assistant_id, f"HMS_ASSISTANTS[{name!r}]")
        if checked is None:
            raise ConfigurationError(
                f"{setting_name(f'HMS_ASSISTANTS[{name!r}]')} must be an assistant id (a UUID)"
            )
        result[name] = checked
    return result


def url_prefix(value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"{setting_name('HMS_URL_PREFIX')} must be a string such as '/hms'")
    prefix = "/" + value.strip().strip("/")
    if prefix == "/" or not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", prefix):
        raise ConfigurationError(f"{setting_name('HMS_URL_PREFIX')} must be a non-empty path such as '/hms'")
    return prefix


def allowed_origins(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items: Iterable[Any]
    if isinstance(value, str):
        items = [item for item in re.split(r"[\s,]+", value) if item]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ConfigurationError(
            f"{setting_name('HMS_ALLOWED_ORIGINS')} must be a list of origins such as 'https://example.com'"
        )
    origins = []
    for item in items:
        if item == "*":
            raise ConfigurationError(
                f"{setting_name('HMS_ALLOWED_ORIGINS')} cannot be '*': starting a call spends credits, "
                "list the sites allowed to"
            )
        origin = normalize_origin(item) if isinstance(item, str) else None
        if origin is None:
            raise ConfigurationError(
                f"{setting_name('HMS_ALLOWED_ORIGINS')}: {item!r} is not an origin "
                "(scheme://host[:port], no path)"
            )
        origins.append(origin)
    return tuple(dict.fromkeys(origins))


def boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{setting_name(key)} must be True or False")
    return value


def integer(value: Any, key: str, *, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigurationError(f"{setting_name(key)} must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{setting_name(key)} must be an integer from {minimum} to {maximum}")
    return value


def optional_integer(value: Any, key: str, *, minimum: int, maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    return integer(value, key, minimum=minimum, maximum=maximum)


def seconds(value: Any, key: str, *, maximum: float) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{setting_name(key)} must be a number of seconds") from None
    if isinstance(value, bool) or not 0 < seconds <= maximum:
        raise ConfigurationError(f"{setting_name(key)} must be between 0 and {maximum:g} seconds")
    return seconds


def choice(value: Any, key: str, choices: tuple[str, ...], *, optional: bool = False) -> Any:
    if optional and (value is None or value == ""):
        return None
    if value not in choices:
        raise ConfigurationError(f"{setting_name(key)} must be one of: {', '.join(repr(c) for c in choices)}")
    return value


def timezone(value: Any) -> ZoneInfo:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{setting_name('HMS_BUDGET_TIMEZONE')} must be a time zone name such as 'Europe/Amsterdam'"
        )
    try:
        return ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            f"{setting_name('HMS_BUDGET_TIMEZONE')} is not a known time zone name "
            "(such as 'UTC' or 'Europe/Amsterdam')"
        ) from None


def challenge_key(value: Any, secret_key: Any, *, required: str | None) -> bytes:
    if value is not None and value != "":
        if not isinstance(value, (str, bytes)) or len(value) < 16:
            raise ConfigurationError(
                f"{setting_name('HMS_CHALLENGE_KEY')} must be a string of at least 16 characters"
            )
        return value.encode() if isinstance(value, str) else value
    if isinstance(secret_key, (str, bytes)) and secret_key:
        raw = secret_key.encode() if isinstance(secret_key, str) else secret_key
        # A key of its own, so a challenge signature can never be replayed as anything the app signs.
        return hmac.new(raw, b"flask-hms-webcall challenge key", hashlib.sha256).digest()
    if required:
        raise ConfigurationError(
            f"HMS_CHALLENGE is on but neither {setting_name('HMS_CHALLENGE_KEY')} nor SECRET_KEY (or "
            "FLASK_SECRET_KEY in the environment) is set"
        )
    return b""


def consent_version(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # FLASK_HMS_REQUIRE_CONSENT=2 arrives as a number through from_prefixed_env
    if not isinstance(value, str) or len(value) > MAX_CONSENT_VERSION_LENGTH or not value.strip():
        raise ConfigurationError(
            f"{setting_name('HMS_REQUIRE_CONSENT')} must be a consent version of "
            f"1-{MAX_CONSENT_VERSION_LENGTH} characters"
        )
    return value


def rate_limit(value: Any) -> str:
    from limits import parse_many

    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            f"{setting_name('HMS_RATE_LIMIT')} must be a rate limit string such as '5 per minute;30 per day'"
        )
    try:
        parse_many(value)
    except ValueError:
        raise ConfigurationError(
            f"{setting_name('HMS_RATE_LIMIT')} is not a valid rate limit string "
            "(example: '5 per minute;30 per day')"
        ) from None
    return value


def storage_uri(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{setting_name('HMS_STORAGE_URI')} must be 'memory://' or a redis:// URL")
    return value.strip()


def webhook_secrets(value: Any) -> tuple[str, ...]:
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
    raise ConfigurationError(
        f"{setting_name('HMS_WEBHOOK_SECRET')} must be a string or a list of strings (during rotation)"
    )
