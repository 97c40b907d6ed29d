"""The webhooks a call fires: what each payload holds, and delivering it signed, in order, with retries.

Field spelling: the Web Calls page is the primary spec, so the fields its examples show keep its spelling
(``endedReason``, ``durationSeconds``, ``transcript``, ``call.type: "web_call"``). Fields it does not show
come from the general webhook docs and SDK, in their snake_case (``timestamp``, ``messages``,
``started_at``, ``ended_at``, ``error``, ``assistant``, ``phone_number``, ``customer``). No field is sent
under two names. ``assistant.metadata`` is the request's metadata object, passed through untouched.

Delivery never blocks the API or the media face: the notifier only schedules a task. Deliveries of one call
go out one after the other (a ``status-update`` never overtakes the ``end-of-call-report`` before it); a
connection error, timeout or non-2xx answer is retried ``webhook_retries`` times with doubling backoff, each
attempt stamped and signed afresh, then given up with a log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..signature import delivery_headers
from .calls import CONFIG_ERROR, ERROR, Call
from .config import SandboxConfig
from .tasks import CallQueues

log = logging.getLogger("flask_hms_webcall.sandbox.webhooks")

STATUS_UPDATE = "status-update"
END_OF_CALL_REPORT = "end-of-call-report"
_KEEP_DELIVERIES = 500  # records kept for GET /_sandbox/webhooks
_SHUTDOWN_GRACE = 2.0  # seconds pending deliveries get when the sandbox stops


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return (
        datetime.fromtimestamp(timestamp, timezone.utc)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def call_status(call: Call) -> str:
    if call.active:
        return call.status
    return "ended-with-error" if call.ended_reason in (ERROR, CONFIG_ERROR) else "ended"


def public_assistant(call: Call) -> dict[str, Any]:
    """The resolved assistant as webhooks show it: everything but the secret that signs them."""
    assistant: dict[str, Any] = {"id": call.assistant_id} if call.assistant_id else {}
    assistant.update((k, v) for k, v in call.assistant.items() if k != "webhook_secret")
    if assistant.get("metadata") is None:
        assistant["metadata"] = {}
    return assistant


def summary(call: Call) -> str:
    said = {role: sum(1 for m in call.transcript if m.get("role") == role) for role in ("user", "assistant")}
    return (
        f"Sandbox web call of {call.duration_seconds} s, ended by {call.ended_reason}: "
        f"the user spoke {said['user']} time(s), the assistant {said['assistant']} time(s)."
    )


def build_payload(call: Call, event_type: str, *, now: float | None = None) -> dict[str, Any]:
    """The JSON body of one delivery, as of now."""
    status = call_status(call)
    message: dict[str, Any] = {
        "type": event_type,
        "timestamp": iso(time.time() if now is None else now),
        "call": {"id": call.call_id, "type": "web_call", "status": status},
        "phone_number": {"id": None, "number": None, "name": None},
        "customer": {"number": None},
        "assistant": public_assistant(call),
    }
    if event_type == STATUS_UPDATE:
        message["status"] = status
        if not call.active:
            message["endedReason"] = call.ended_reason
    elif event_type == END_OF_CALL_REPORT:
        message.update(
            endedReason=call.ended_reason,
            durationSeconds=call.duration_seconds,
            summary=summary(call),
            transcript=[f"{m['role']}: {m['content']}" for m in call.transcript],
            messages=[{"role": m["role"], "content": m["content"]} for m in call.transcript],
            started_at=iso(call.joined_at),
            ended_at=iso(call.ended_at),
        )
    if call.error and not call.active:
        message["error"] = call.error
    return {"message": message}


def redact_url(url: str) -> str:
    """The URL without credentials, query or fragment, for logs and the control API."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass
class Delivery:
    call_id: str
    event: str
    url: str  # redacted
    attempts: int = 0
    delivered: bool | None = None  # None while attempts remain
    last_status: int | None = None
    last_error: str | None = None


class WebhookNotifier:
    """The ``notify`` of :class:`~.calls.CallRegistry`: schedules the delivery of each event of a call."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.deliveries: list[Delivery] = []
        self._session: aiohttp.ClientSession | None = None
        self._queues = CallQueues()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.config.webhook_timeout)
        )

    async def close(self) -> None:
        await self._queues.close(_SHUTDOWN_GRACE)
        if self._session is not None:
            await self._session.close()

    async def __call__(self, call: Call, event_type: str) -> None:
        url = call.assistant.get("webhook_url")
        if not isinstance(url, str) or not url:
            return
        wanted = call.assistant.get("webhook_events")
        if isinstance(wanted, list) and event_type not in wanted:
            return
        try:
            # ASCII escapes: any string JSON can carry (even a lone surrogate in metadata) goes through.
            body = json.dumps(build_payload(call, event_type), separators=(",", ":")).encode()
        except (TypeError, ValueError, RecursionError):
            log.exception("call %s: cannot serialise the %s payload", call.call_id, event_type)
            return
        secret = call.assistant.get("webhook_secret")
        record = Delivery(call.call_id, event_type, redact_url(url))
        self.deliveries.append(record)
        del self.deliveries[:-_KEEP_DELIVERIES]
        self._queues.run(call.call_id, self._deliver(record, url, secret or None, body))

    async def _deliver(self, record: Delivery, url: str, secret: str | None, body: bytes) -> None:
        for attempt in range(self.config.webhook_retries + 1):
            if attempt:
                await asyncio.sleep(self.config.webhook_backoff * 2 ** (attempt - 1))
            record.attempts += 1
            if await self._attempt(record, url, secret, body):
                record.delivered = True
                log.info("%s of call %s delivered to %s", record.event, record.call_id, record.url)
                return
        record.delivered = False
        log.warning(
            "gave up delivering %s of call %s to %s after %d attempts (last: %s)",
            record.event,
            record.call_id,
            record.url,
            record.attempts,
            record.last_error or f"HTTP {record.last_status}",
        )

    async def _attempt(self, record: Delivery, url: str, secret: str | None, body: bytes) -> bool:
        assert self._session is not None, "WebhookNotifier.start() was not awaited"
        # Stamped and signed anew for every attempt, as a retry is a new delivery.
        headers = delivery_headers(record.event, body, secret)
        try:
            async with self._session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                record.last_status, record.last_error = response.status, None
                ok = 200 <= response.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            record.last_status, record.last_error = None, type(exc).__name__
            ok = False
        if not ok:
            log.info(
                "%s of call %s to %s failed (attempt %d): %s",
                record.event,
                record.call_id,
                record.url,
                record.attempts,
                record.last_error or f"HTTP {record.last_status}",
            )
        return ok

    def records(self) -> list[dict[str, Any]]:
        return [asdict(d) for d in self.deliveries]
