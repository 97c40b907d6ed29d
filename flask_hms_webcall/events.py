"""Typed HMS webhook events, built from an already verified and JSON-decoded payload.

HMS documents two spellings of the same fields: the general webhook pages and the SDK use snake_case
(``end_reason``, ``duration_seconds``, ``messages``), the Web Calls page uses camelCase (``endedReason``,
``durationSeconds``, ``transcript``). Both are accepted. Parsing is defensive: a field of the wrong type
becomes ``None`` (or empty), so one odd field never costs the site owner the whole event. Only a payload
without a ``message`` object is refused, because then there is nothing to dispatch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import ValidationError

from .errors import WebhookPayloadError
from .hms import END_OF_CALL_REPORT, EVENT_TYPES, FINAL_STATUSES, STATUS_UPDATE, TOOL_CALLS
from .schemas import WebhookEnvelopeSchema

__all__ = [
    "EVENT_TYPES",
    "EndOfCallReport",
    "Event",
    "StatusUpdate",
    "ToolCall",
    "ToolCalls",
    "UnknownEvent",
    "parse_event",
]


@dataclass(frozen=True)
class Event:
    """Fields every webhook event has. ``metadata`` is ``message.assistant.metadata`` exactly as sent."""

    type: str
    call_id: str | None
    call_type: str | None
    call_status: str | None
    metadata: dict[str, Any]
    raw: dict[str, Any]

    @property
    def is_final(self) -> bool:
        """True when this event tells that the call is over."""
        return False


@dataclass(frozen=True)
class StatusUpdate(Event):
    status: str | None = None
    error: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class EndOfCallReport(Event):
    ended_reason: str | None = None
    duration_seconds: int | None = None
    summary: str | None = None
    transcript: tuple[Any, ...] = ()
    analysis: dict[str, Any] | None = None
    recording_url: str | None = None

    @property
    def is_final(self) -> bool:
        return True


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolCalls(Event):
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class UnknownEvent(Event):
    """An event type this package does not model (HMS may add some); ``raw`` holds all of it."""


_ENVELOPE = WebhookEnvelopeSchema()


def parse_event(payload: Any) -> Event:
    """Turn a decoded webhook body into the matching :class:`Event` subclass.

    Raises :class:`~flask_hms_webcall.errors.WebhookPayloadError` when ``payload`` is not an object or has no
    ``message`` object; anything else parses, at worst into an :class:`UnknownEvent`.
    """
    # A genuine delivery is a JSON object holding a message object: two type checks say so; anything else
    # goes through the envelope schema, which words the refusal.
    message = payload.get("message") if type(payload) is dict else None
    if type(message) is not dict:
        message = _envelope_message(payload)

    call = _obj(message.get("call"))
    assistant = _obj(message.get("assistant"))
    event_type = _str(message.get("type")) or ""
    fields: dict[str, Any] = {
        "type": event_type,
        "call_id": _text(_first_str(call, "id") or _first_str(message, "call_id", "callId")),
        "call_type": _first_str(call, "type") or _first_str(message, "call_type", "callType"),
        "call_status": _first_str(call, "status") or _first_str(message, "call_status", "callStatus"),
        "metadata": dict(_obj(assistant.get("metadata"))),
        "raw": payload,
    }

    if event_type == STATUS_UPDATE:
        fields["status"] = _first_str(message, "status") or _first_str(call, "status")
        fields["error"] = _error_text(message.get("error")) or _error_text(call.get("error"))
        return _event(StatusUpdate, fields)
    if event_type == END_OF_CALL_REPORT:
        fields.update(
            ended_reason=_first_str(message, *_ENDED_REASON_KEYS) or _first_str(call, *_ENDED_REASON_KEYS),
            duration_seconds=_first_valid(_seconds, message, "duration_seconds", "durationSeconds"),
            summary=_first_str(message, "summary"),
            transcript=_first_valid(_transcript, message, "messages", "transcript") or (),
            analysis=_first_valid(_obj_or_none, message, "analysis", "analysis_result", "analysisResult"),
            recording_url=_first_str(message, "recording_url", "recordingUrl"),
        )
        return _event(EndOfCallReport, fields)
    if event_type == TOOL_CALLS:
        items = _first(message, "tool_call_list", "toolCallList", "tool_calls", "toolCalls")
        fields["tool_calls"] = (
            tuple(_tool_call(item) for item in items if isinstance(item, dict))
            if isinstance(items, list)
            else ()
        )
        return _event(ToolCalls, fields)
    return _event(UnknownEvent, fields)


def _envelope_message(payload: Any) -> dict[str, Any]:
    try:
        message: dict[str, Any] = _ENVELOPE.load(payload)["message"]
    except ValidationError as exc:
        problem = "is not a JSON object" if "_schema" in exc.messages else "has no message object"
        raise WebhookPayloadError(f"webhook payload {problem}") from None
    return message


_E = TypeVar("_E", bound=Event)


def _event(cls: type[_E], fields: dict[str, Any]) -> _E:
    # The same object cls(**fields) builds, in one step: a frozen dataclass's __init__ sets each field through
    # object.__setattr__, which cost a third of parsing a delivery. Valid because every field is given here
    # (no default applies) and no event class has a __post_init__; a test holds parse_event to both.
    event = object.__new__(cls)
    event.__dict__.update(fields)
    return event


_ENDED_REASON_KEYS = ("end_reason", "ended_reason", "endedReason", "endReason")


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _obj_or_none(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _first(source: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` present and not null (a payload may carry both spellings)."""
    for key in keys:
        value = source.get(key)
        if value is not None:
            return value
    return None


def _first_valid(convert: Callable[[Any], Any], source: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` whose value converts (to anything but ``None``): one malformed spelling must not
    hide a good one."""
    for key in keys:
        value = convert(source.get(key))
        if value is not None:
            return value
    return None


def _first_str(source: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = source.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _text(value: str | None) -> str | None:
    """``value`` if it is Unicode text: JSON can spell a lone surrogate (``"\\ud800"``), which no store
    can hold as a key and no call of HMS's is named by, so such an id names no call."""
    if value is None or value.isascii():
        return value
    try:
        value.encode()
    except UnicodeEncodeError:
        return None
    return value


def _error_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        return _first_str(value, "message", "detail")
    return None


def _seconds(value: Any) -> int | None:
    # bool is an int subclass; "true" seconds is a malformed payload, not 1 s.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        return round(value) if math.isfinite(value) and value >= 0 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _transcript(value: Any) -> tuple[Any, ...] | None:
    """Entries as sent: ``{"role", "content"}`` objects (snake_case docs) or strings (Web Calls page)."""
    if isinstance(value, list):
        return tuple(entry for entry in value if isinstance(entry, (dict, str)))
    if isinstance(value, str) and value:
        return (value,)
    return None


def _tool_call(item: Mapping[str, Any]) -> ToolCall:
    # Documented shape: {"id", "type": "function", "function": {"name", "arguments"}}; the flat
    # {"id", "name", "arguments"} shape is accepted too.
    function = _obj(item.get("function"))
    name = _first_str(function, "name") or _first_str(item, "name") or ""
    arguments = function.get("arguments") if "arguments" in function else item.get("arguments")
    return ToolCall(
        id=_first_str(item, "id", "tool_call_id", "toolCallId") or "",
        name=name,
        arguments=_arguments(arguments),
    )


def _arguments(value: Any) -> dict[str, Any]:
    # The docs say an object, but OpenAI-style senders put a JSON string there.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return {}
    return value if isinstance(value, dict) else {}
