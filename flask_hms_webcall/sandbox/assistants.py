"""Which assistant a web call gets: the saved assistants, and the three configuration modes.

The rules and their ``detail`` strings are the Web Calls page's, word for word. Where the page is silent:

- The four documented 400 rules are checked in an order that makes each one reachable: "Cannot provide
  both" first, then "assistant_override requires assistant_id", then "Must provide ...", then the transient
  rule. ``null`` counts as absent.
- "assistant_id, assistant, or both": with both, the inline ``assistant`` is the whole config (it must hold
  the three configs, like any transient assistant) and ``assistant_id`` must still be one of the org's.
- Wrong JSON types are 400 with a detail naming the field; an ``assistant_id`` that is not a UUID string is
  400 too (the page types it "string (uuid)"), while a well-formed UUID that is not saved is 403.
- Fields the page does not list are kept as given, so a client sending a newer field is not refused.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..hms import (
    EVENT_TYPES,
    RULE_NEEDS_CONFIG,
    RULE_OVERRIDE_NEEDS_ID,
    RULE_OVERRIDE_XOR_ASSISTANT,
    RULE_TRANSIENT_CONFIGS,
    TRANSIENT_REQUIRED,
)
from .brain import DEFAULT_FALLBACK, DEFAULT_RULES, LOOKUP_ORDER_TOOL, rules_error
from .config import DEFAULT_FIRST_MESSAGE, SandboxConfig

REFERENCE, HYBRID, TRANSIENT = "reference", "hybrid", "transient"
WEBHOOK_EVENTS = ("assistant-request", *EVENT_TYPES)
MUST_PROVIDE = RULE_NEEDS_CONFIG
OVERRIDE_NEEDS_ID = RULE_OVERRIDE_NEEDS_ID
NOT_BOTH = RULE_OVERRIDE_XOR_ASSISTANT
TRANSIENT_INCOMPLETE = RULE_TRANSIENT_CONFIGS
NOT_FOUND = "Assistant not found or does not belong to this organization"

_OBJECT_FIELDS = ("stt_config", "llm_config", "tts_config", "analysis_plan", "metadata", "speech_config")
_STRING_FIELDS = ("first_message", "business_name", "name", "webhook_secret")
_BOOL_FIELDS = ("autonomous_silence_handling", "gdpr_mode")


class RequestRejected(Exception):
    """The create request cannot be served; ``status`` and ``detail`` are the HTTP answer."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class Resolved:
    mode: str
    assistant_id: str | None  # normalised UUID of the saved assistant, if one was named
    assistant: dict[str, Any]  # the config the call runs with (a private copy)


def normalise_id(value: Any) -> str | None:
    """The canonical lower-case form of a UUID string, or None if ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def field_error(fields: dict[str, Any], where: str) -> str | None:
    """Why the known fields of an assistant config have the wrong type, or None if they are fine."""
    for key in _OBJECT_FIELDS:
        if fields.get(key) is not None and not isinstance(fields[key], dict):
            return f"{where}.{key} must be an object"
    for key in _STRING_FIELDS:
        if fields.get(key) is not None and not isinstance(fields[key], str):
            return f"{where}.{key} must be a string"
    for key in _BOOL_FIELDS:
        if fields.get(key) is not None and not isinstance(fields[key], bool):
            return f"{where}.{key} must be a boolean"
    speech = fields.get("speech_config") or {}
    if speech.get("allow_interruptions") is not None and not isinstance(speech["allow_interruptions"], bool):
        return f"{where}.speech_config.allow_interruptions must be a boolean"
    url = fields.get("webhook_url")
    if url is not None and not (isinstance(url, str) and is_http_url(url)):
        return f"{where}.webhook_url must be an http(s) URL"
    events = fields.get("webhook_events")
    if events is not None:
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            return f"{where}.webhook_events must be a list of event types"
        unknown = [e for e in events if e not in WEBHOOK_EVENTS]
        if unknown:
            return f"{where}.webhook_events: unknown event type {unknown[0]!r}"
    return None


def default_assistant(config: SandboxConfig) -> dict[str, Any]:
    """The saved assistant every sandbox has, under ``config.assistant_id``."""
    return {
        "name": "Sandbox assistant",
        "business_name": "HMS sandbox",
        "first_message": DEFAULT_FIRST_MESSAGE,
        "stt_config": {"provider": "sandbox", "model": "pocketsphinx", "language": "en"},
        "llm_config": {
            "provider": "sandbox",
            "model": "rules",
            "temperature": 0.7,
            "messages": [{"role": "system", "content": "You are the HMS sandbox assistant."}],
            "tools": [copy.deepcopy(LOOKUP_ORDER_TOOL)],
            "rules": copy.deepcopy(DEFAULT_RULES),
            "fallback": DEFAULT_FALLBACK,
        },
        # voice_id is an eSpeak NG voice name ("en-us", "en", "nl", ...): the US voice suits the US ears.
        "tts_config": {"provider": "sandbox", "voice_id": "en-us", "language": "en"},
        "webhook_url": config.webhook_url,
        "webhook_secret": config.webhook_secret,
        "webhook_events": None,
        "metadata": {},
    }


def saved_assistants(config: SandboxConfig) -> dict[str, dict[str, Any]]:
    """Every saved assistant of the sandbox's one organization, by normalised id."""
    saved = {normalise_id(config.assistant_id) or config.assistant_id: default_assistant(config)}
    for assistant_id, fields in config.assistants.items():
        saved[normalise_id(assistant_id) or assistant_id] = copy.deepcopy(fields)
    return saved


def load_assistants_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read ``--assistants FILE``: ``{"<uuid>": {fields}, ...}`` or ``[{"id": "<uuid>", ...fields}, ...]``.

    Raises ``ValueError`` with a message naming the file and the problem.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read assistants: {exc}") from None
    if isinstance(data, list):
        entries = []
        for item in data:
            if not isinstance(item, dict):
                raise ValueError(f"{path}: every assistant must be an object")
            fields = dict(item)
            entries.append((fields.pop("id", None), fields))
    elif isinstance(data, dict):
        entries = list(data.items())
    else:
        raise ValueError(f"{path}: expected an object of assistants by id, or a list of assistants")
    assistants: dict[str, dict[str, Any]] = {}
    for raw_id, fields in entries:
        assistant_id = normalise_id(raw_id)
        if assistant_id is None:
            raise ValueError(f"{path}: assistant id {raw_id!r} is not a UUID")
        if not isinstance(fields, dict):
            raise ValueError(f"{path}: assistant {assistant_id} must be an object")
        problem = field_error(fields, "assistant") or rules_error(fields)
        if problem:
            raise ValueError(f"{path}: {assistant_id}: {problem}")
        assistants[assistant_id] = fields
    return assistants


def resolve(body: dict[str, Any], saved: dict[str, dict[str, Any]]) -> Resolved:
    """Apply the page's rules to a create request body; raise :class:`RequestRejected` when one fails."""
    raw_id = body.get("assistant_id")
    override = body.get("assistant_override")
    inline = body.get("assistant")
    has_id, has_override, has_inline = raw_id is not None, override is not None, inline is not None

    if has_inline and has_override:
        raise RequestRejected(400, NOT_BOTH)
    if has_override and not has_id:
        raise RequestRejected(400, OVERRIDE_NEEDS_ID)
    if not has_id and not has_inline:
        raise RequestRejected(400, MUST_PROVIDE)

    assistant_id = None
    if has_id:
        assistant_id = normalise_id(raw_id)
        if assistant_id is None:
            raise RequestRejected(400, "assistant_id must be a UUID string")
    if has_override and not isinstance(override, dict):
        raise RequestRejected(400, "assistant_override must be an object")
    if has_inline:
        if not isinstance(inline, dict):
            raise RequestRejected(400, "assistant must be an object")
        if any(inline.get(key) is None for key in TRANSIENT_REQUIRED):
            raise RequestRejected(400, TRANSIENT_INCOMPLETE)

    given, where = (inline, "assistant") if has_inline else (override, "assistant_override")
    if given:
        problem = field_error(given, where)
        if problem:
            raise RequestRejected(400, problem)
    if assistant_id is not None and assistant_id not in saved:
        raise RequestRejected(403, NOT_FOUND)

    if inline is not None:
        return Resolved(TRANSIENT, assistant_id, copy.deepcopy(inline))
    # Neither an inline assistant nor an id was refused above (MUST_PROVIDE), so the id is set here.
    assert assistant_id is not None
    base = copy.deepcopy(saved[assistant_id])
    if override is None:
        return Resolved(REFERENCE, assistant_id, base)
    # Shallow merge: each top-level override key replaces that whole block of the saved assistant.
    return Resolved(HYBRID, assistant_id, {**base, **copy.deepcopy(override)})
