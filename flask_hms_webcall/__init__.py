"""flask-hms-webcall: let visitors of a Flask site talk to an HMS Sovereign voice assistant."""

from ._extension import CallRequest, HMSWebCall
from .client import HMSClient, WebCall
from .errors import (
    BrowserError,
    ConfigurationError,
    HMSAPIError,
    HMSAuthenticationError,
    HMSConcurrencyLimitError,
    HMSConnectionError,
    HMSForbiddenError,
    HMSInsufficientCreditsError,
    HMSInvalidRequestError,
    HMSResponseError,
    HMSServerError,
    HMSTimeoutError,
    HMSWebCallError,
    WebhookError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from .events import EndOfCallReport, Event, StatusUpdate, ToolCall, ToolCalls, UnknownEvent, parse_event

__version__ = "0.1.0"

__all__ = [
    "BrowserError",
    "CallRequest",
    "ConfigurationError",
    "EndOfCallReport",
    "Event",
    "HMSAPIError",
    "HMSAuthenticationError",
    "HMSClient",
    "HMSConcurrencyLimitError",
    "HMSConnectionError",
    "HMSForbiddenError",
    "HMSInsufficientCreditsError",
    "HMSInvalidRequestError",
    "HMSResponseError",
    "HMSServerError",
    "HMSTimeoutError",
    "HMSWebCall",
    "HMSWebCallError",
    "StatusUpdate",
    "ToolCall",
    "ToolCalls",
    "UnknownEvent",
    "WebCall",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookSignatureError",
    "parse_event",
]
