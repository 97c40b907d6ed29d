"""flask-hms-webcall: let visitors of a Flask site talk to an HMS Sovereign voice assistant."""

from ._extension import HMSWebCall
from ._hooks import CallRequest, PageActionCall
from ._version import __version__ as __version__  # the one place the version is written
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
    "PageActionCall",
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
