"""HMS's fixed names and limits, in one place: the extension, the CLI and the sandbox all import them from
here, so the sandbox cannot drift from what the extension expects.

Everything below is quoted from HMS's own documentation: the Web Calls page and the webhook docs.
"""

from __future__ import annotations

__all__ = [
    "AGENT_HANGUP",
    "CALL_STATUSES",
    "CONFIG_ERROR",
    "END_OF_CALL_REPORT",
    "END_REASONS",
    "ERROR",
    "EVENT_HEADER",
    "EVENT_TYPES",
    "FINAL_STATUSES",
    "MAX_CALL_DURATION",
    "MAX_CONCURRENT_CALLS",
    "MAX_DURATION",
    "RULE_NEEDS_CONFIG",
    "RULE_OVERRIDE_NEEDS_ID",
    "RULE_OVERRIDE_XOR_ASSISTANT",
    "RULE_TRANSIENT_CONFIGS",
    "SIGNATURE_HEADER",
    "SIGNATURE_PREFIX",
    "STATUS_ENDED",
    "STATUS_ENDED_WITH_ERROR",
    "STATUS_IN_PROGRESS",
    "STATUS_QUEUED",
    "STATUS_UPDATE",
    "TIMESTAMP_HEADER",
    "TOKEN_TTL",
    "TOOL_CALLS",
    "TOOL_CALL_TIMEOUT",
    "TRANSIENT_REQUIRED",
    "UNJOINED_ROOM_TTL",
    "USER_HANGUP",
    "WEB_CALLS_PATH",
]

WEB_CALLS_PATH = "/v1/web-calls"

# Limits of the Web Calls page.
MAX_CONCURRENT_CALLS = 3  # per organisation
TOKEN_TTL = 300  # seconds a token may wait before it is used to join
MAX_CALL_DURATION = 300  # seconds a call may last once joined
UNJOINED_ROOM_TTL = 60  # seconds a room lives when nobody joins it
TOOL_CALL_TIMEOUT = 10  # seconds HMS waits for a tool-calls webhook's answer

# Webhook event types.
STATUS_UPDATE = "status-update"
END_OF_CALL_REPORT = "end-of-call-report"
TOOL_CALLS = "tool-calls"
EVENT_TYPES = (STATUS_UPDATE, END_OF_CALL_REPORT, TOOL_CALLS)

# Call statuses, as status-update webhooks carry them.
STATUS_QUEUED = "queued"
STATUS_IN_PROGRESS = "in-progress"
STATUS_ENDED = "ended"
STATUS_ENDED_WITH_ERROR = "ended-with-error"
CALL_STATUSES = (STATUS_IN_PROGRESS, STATUS_ENDED, STATUS_ENDED_WITH_ERROR)
# Statuses after which HMS sends nothing more for the call, so its concurrency slot can be freed.
FINAL_STATUSES = frozenset({STATUS_ENDED, STATUS_ENDED_WITH_ERROR})

# End reasons.
USER_HANGUP = "user_hangup"
AGENT_HANGUP = "agent_hangup"
MAX_DURATION = "max_duration"
ERROR = "error"
CONFIG_ERROR = "config_error"
END_REASONS = (USER_HANGUP, AGENT_HANGUP, MAX_DURATION, ERROR, CONFIG_ERROR)

# Webhook headers: ``X-Webhook-Signature: sha256=<hex>`` over ``<X-Webhook-Timestamp>.<raw body>``.
SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
EVENT_HEADER = "X-Webhook-Event"
SIGNATURE_PREFIX = "sha256="

# The four 400 details of the HMS Web Calls page, word for word.
RULE_NEEDS_CONFIG = "Must provide assistant_id, assistant, or both"
RULE_OVERRIDE_NEEDS_ID = "assistant_override requires assistant_id"
RULE_OVERRIDE_XOR_ASSISTANT = "Cannot provide both assistant and assistant_override"
RULE_TRANSIENT_CONFIGS = "Transient assistant must provide: stt_config, llm_config, tts_config"
TRANSIENT_REQUIRED = ("stt_config", "llm_config", "tts_config")
