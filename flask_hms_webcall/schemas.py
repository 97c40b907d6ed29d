"""What goes in and out, as marshmallow schemas: the browser's request, the body sent to HMS with its three
configuration modes, HMS's answer, and the outer envelope of a webhook. What is inside a webhook's message is
read by :mod:`flask_hms_webcall.events`, which must take odd fields defensively rather than refuse them."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates_schema

from .hms import (
    RULE_NEEDS_CONFIG,
    RULE_OVERRIDE_NEEDS_ID,
    RULE_OVERRIDE_XOR_ASSISTANT,
    RULE_TRANSIENT_CONFIGS,
    TRANSIENT_REQUIRED,
)

__all__ = [
    "CONTEXT_KEY_PATTERN",
    "MAX_CONTEXT_ENTRIES",
    "MAX_CONTEXT_VALUE_LENGTH",
    "RATINGS",
    "RULE_NEEDS_CONFIG",
    "RULE_OVERRIDE_NEEDS_ID",
    "RULE_OVERRIDE_XOR_ASSISTANT",
    "RULE_TRANSIENT_CONFIGS",
    "CreateWebCallSchema",
    "FEEDBACK_SCHEMA",
    "FeedbackSchema",
    "WEB_CALL_REQUEST_SCHEMA",
    "WebCallRequestSchema",
    "WEB_CALL_RESPONSE_SCHEMA",
    "WebCallResponseSchema",
    "WebhookEnvelopeSchema",
    "create_body_error",
    "load_web_call_answer",
]

MAX_CONTEXT_ENTRIES = 10
MAX_CONTEXT_KEY_LENGTH = 40
MAX_CONTEXT_VALUE_LENGTH = 200
MAX_CHALLENGE_LENGTH = 4096
MAX_CONSENT_LENGTH = 40
MAX_COMMENT_LENGTH = 500
RATINGS = ("up", "down")  # a visitor's rating of their call
# HMS's answer to a create: the longest text each field may be.
MAX_CALL_ID_LENGTH = 200
MAX_ROOM_NAME_LENGTH = 200
MAX_TOKEN_LENGTH = 16384
MAX_SERVER_URL_LENGTH = 2048
WEBSOCKET_SCHEMES = ("wss://", "ws://")
# \Z, not $: "$" also matches before a trailing newline, which would let "page\n" through as a key.
CONTEXT_KEY_PATTERN = rf"^[A-Za-z0-9_-]{{1,{MAX_CONTEXT_KEY_LENGTH}}}\Z"


class WebCallRequestSchema(Schema):
    """``POST {prefix}/web-calls`` from the browser: which configured assistant, and a little context. The
    browser never chooses an assistant id, override or prompt; anything else is refused."""

    class Meta:
        unknown = RAISE

    assistant = fields.String(validate=validate.Length(min=1, max=64))
    context = fields.Dict(
        keys=fields.String(validate=validate.Regexp(CONTEXT_KEY_PATTERN)),
        values=fields.String(validate=validate.Length(max=MAX_CONTEXT_VALUE_LENGTH)),
        validate=validate.Length(max=MAX_CONTEXT_ENTRIES),
    )
    # A proof-of-work solution or a verifier's token; checked by the extension, not here.
    challenge = fields.String(validate=validate.Length(min=1, max=MAX_CHALLENGE_LENGTH))
    consent = fields.String(validate=validate.Length(min=1, max=MAX_CONSENT_LENGTH))


class FeedbackSchema(Schema):
    """``POST {prefix}/web-calls/<call_id>/feedback``: the visitor's rating of their call."""

    class Meta:
        unknown = RAISE

    rating = fields.String(required=True, validate=validate.OneOf(RATINGS))
    comment = fields.String(allow_none=True, validate=validate.Length(max=MAX_COMMENT_LENGTH))


# Built once, as every schema here: building one costs several times what loading a small body with it does
# (a create spent more on building its request schema than on all its other checks); a marshmallow schema
# keeps no state between loads, so one instance serves every thread.
WEB_CALL_REQUEST_SCHEMA = WebCallRequestSchema()
FEEDBACK_SCHEMA = FeedbackSchema()


def _uuid_text(value: str) -> bool:
    if not _is_uuid(value):
        raise ValidationError("assistant_id must be a UUID")
    return True


@functools.lru_cache(maxsize=64)  # a site has a few assistants, and their ids come back on every create
def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class CreateWebCallSchema(Schema):
    """The body of ``POST /v1/web-calls``: reference mode (``assistant_id``), hybrid mode (``assistant_id`` +
    ``assistant_override``) or transient mode (``assistant``), with HMS's own rules, checked before sending
    so a bad configuration is caught without spending a request."""

    class Meta:
        unknown = RAISE

    assistant_id = fields.String(allow_none=True, validate=_uuid_text)
    assistant_override = fields.Dict(keys=fields.String(), allow_none=True)
    assistant = fields.Dict(keys=fields.String(), allow_none=True)

    @validates_schema(skip_on_field_errors=True)
    def _modes(self, data: dict[str, Any], **_: Any) -> None:
        assistant_id = data.get("assistant_id")
        override = data.get("assistant_override")
        assistant = data.get("assistant")
        # Checked in the order the sandbox uses, which makes each of the four reachable; ``null`` is absent.
        if assistant is not None and override is not None:
            raise ValidationError(RULE_OVERRIDE_XOR_ASSISTANT)
        if override is not None and assistant_id is None:
            raise ValidationError(RULE_OVERRIDE_NEEDS_ID)
        if assistant_id is None and assistant is None:
            raise ValidationError(RULE_NEEDS_CONFIG)
        # With both an id and an inline assistant, the inline one is the whole config: it needs all three.
        if assistant is not None and any(
            not isinstance(assistant.get(key), dict) for key in TRANSIENT_REQUIRED
        ):
            raise ValidationError(RULE_TRANSIENT_CONFIGS)
        for config in (override, assistant):
            if (
                config is not None
                and config.get("metadata") is not None
                and not isinstance(config["metadata"], dict)
            ):
                raise ValidationError("metadata must be an object")


_CREATE_WEB_CALL_SCHEMA = CreateWebCallSchema()


def create_body_error(body: Any) -> str | None:
    """The detail HMS would answer 400 with for ``body``, or ``None`` when it is acceptable."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    # Reference mode, an assistant id alone, is what almost every create sends: it is accepted exactly when
    # the schema would accept it, without the schema's load, which cost a create more than its other checks.
    if len(body) == 1 and type(body.get("assistant_id")) is str and _is_uuid(body["assistant_id"]):
        return None
    try:
        _CREATE_WEB_CALL_SCHEMA.load(body)
    except ValidationError as exc:
        return _first_message(exc.messages)
    return None


def _first_message(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list) and messages:
        return _first_message(messages[0])
    if isinstance(messages, dict) and messages:
        key, value = next(iter(messages.items()))
        text = _first_message(value)
        return text if key == "_schema" else f"{key}: {text}"
    return "invalid request body"


def _websocket_url(value: str) -> bool:
    if not value.startswith(WEBSOCKET_SCHEMES):
        raise ValidationError("server_url must be a ws:// or wss:// URL")
    return True


class WebCallResponseSchema(Schema):
    """HMS's 200 answer. ``call_id``, ``token`` and ``server_url`` are what the browser needs; extra fields
    HMS may add later are ignored."""

    class Meta:
        unknown = EXCLUDE

    success = fields.Boolean(load_default=True)
    call_id = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CALL_ID_LENGTH))
    room_name = fields.String(load_default="", validate=validate.Length(max=MAX_ROOM_NAME_LENGTH))
    token = fields.String(required=True, validate=validate.Length(min=1, max=MAX_TOKEN_LENGTH))
    server_url = fields.String(
        required=True, validate=[validate.Length(max=MAX_SERVER_URL_LENGTH), _websocket_url]
    )


WEB_CALL_RESPONSE_SCHEMA = WebCallResponseSchema()
_ANSWER_TEXT_LIMITS = {
    "call_id": MAX_CALL_ID_LENGTH,
    "token": MAX_TOKEN_LENGTH,
    "server_url": MAX_SERVER_URL_LENGTH,
}


def load_web_call_answer(data: dict[str, Any]) -> dict[str, Any]:
    """HMS's 200 answer as :class:`WebCallResponseSchema` loads it; raises its ``ValidationError``."""
    # An answer as HMS writes it (its fields text of the right length, ``success`` a boolean) is taken
    # without the schema, whose load cost a create more than its other checks; anything else goes through
    # the schema, which coerces what it can and words the refusal.
    room_name = data.get("room_name", "")
    success = data.get("success", True)
    if (
        type(room_name) is str
        and len(room_name) <= MAX_ROOM_NAME_LENGTH
        and type(success) is bool
        and all(
            type(value := data.get(key)) is str and 0 < len(value) <= longest
            for key, longest in _ANSWER_TEXT_LIMITS.items()
        )
        and data["server_url"].startswith(WEBSOCKET_SCHEMES)
    ):
        return {
            "success": success,
            "call_id": data["call_id"],
            "room_name": room_name,
            "token": data["token"],
            "server_url": data["server_url"],
        }
    loaded: dict[str, Any] = WEB_CALL_RESPONSE_SCHEMA.load(data)
    return loaded


class WebhookEnvelopeSchema(Schema):
    """Every webhook is ``{"message": {...}}``; whatever else HMS adds at the top level is ignored."""

    class Meta:
        unknown = EXCLUDE

    message = fields.Dict(required=True)
