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

from ..hms import (
    CONFIG_ERROR,
    END_OF_CALL_REPORT,
    ERROR,
    STATUS_ENDED,
    STATUS_ENDED_WITH_ERROR,
    STATUS_UPDATE,
    TOOL_CALL_TIMEOUT,
    TOOL_CALLS,
)
from ..signature import delivery_headers
from .calls import Call
from .config import SandboxConfig
from .tasks import CallQueues

log = logging.getLogger("flask_hms_webcall.sandbox.webhooks")

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
    return STATUS_ENDED_WITH_ERROR if call.ended_reason in (ERROR, CONFIG_ERROR) else STATUS_ENDED


def public_assistant(call: Call) -> dict[str, Any]:
    """The resolved assistant as webhooks show it: everything but the secret that signs them."""
    assistant: dict[str, Any] = {"id": call.assistant_id} if call.assistant_id else {}
    assistant.update((k, v) for k, v in call.assistant.items() if k != "webhook_secret")
    if assistant.get("metadata") is None:
        assistant["metadata"] = {}
    return assistant


def summary(call: Call) -> str:
    spoken = [m for m in call.transcript if not m.get("tool_calls")]
    said = {role: sum(1 for m in spoken if m.get("role") == role) for role in ("user", "assistant")}
    return (
        f"Sandbox web call of {call.duration_seconds} s, ended by {call.ended_reason}: "
        f"the user spoke {said['user']} time(s), the assistant {said['assistant']} time(s)."
    )


def transcript_line(message: dict[str, Any]) -> str:
    """One ``transcript`` string; a tool call (which has no spoken content) as ``name(arguments)``."""
    calls = message.get("tool_calls")
    if calls:
        text = "; ".join(
            f"{c['function']['name']}({json.dumps(c['function']['arguments'], ensure_ascii=False)})"
            for c in calls
        )
        return f"{message['role']}: [tool call] {text}"
    return f"{message['role']}: {message['content']}"


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
            transcript=[transcript_line(m) for m in call.transcript],
            messages=[dict(m) for m in call.transcript],
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

    async def call_tool(
        self, call: Call, tool_call_id: str, name: str, arguments: dict[str, Any]
    ) -> ToolAnswer:
        """Send one signed ``tool-calls`` webhook and wait (up to HMS's 10 s) for the app's result.

        The target is the tool's own ``url`` if its ``llm_config.tools`` entry has one, else the assistant's
        ``webhook_url``. Not retried: the visitor is waiting on the line.
        """
        url = tool_url(call, name)
        wanted = call.assistant.get("webhook_events")
        if not url or (isinstance(wanted, list) and TOOL_CALLS not in wanted):
            return ToolAnswer(ok=False, error="no webhook receives tool-calls")
        payload = build_payload(call, TOOL_CALLS)
        payload["message"]["tool_call_list"] = [
            {"id": tool_call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        ]
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = call.assistant.get("webhook_secret") or None
        record = Delivery(call.call_id, TOOL_CALLS, redact_url(url), attempts=1)
        self.deliveries.append(record)
        del self.deliveries[:-_KEEP_DELIVERIES]
        assert self._session is not None, "WebhookNotifier.start() was not awaited"
        try:
            async with self._session.post(
                url,
                data=body,
                headers=delivery_headers(TOOL_CALLS, body, secret),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=min(TOOL_CALL_TIMEOUT, self.config.webhook_timeout)),
            ) as response:
                record.last_status = response.status
                text = await response.text(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            record.delivered, record.last_error = False, type(exc).__name__
            log.info("tool call %s of call %s failed: %s", name, call.call_id, record.last_error)
            return ToolAnswer(ok=False, error=record.last_error)
        record.delivered = 200 <= response.status < 300
        if not record.delivered:
            log.info("tool call %s of call %s: HTTP %s", name, call.call_id, response.status)
            return ToolAnswer(ok=False, error=f"HTTP {response.status}")
        return parse_tool_reply(text, tool_call_id)

    def records(self) -> list[dict[str, Any]]:
        return [asdict(d) for d in self.deliveries]


@dataclass(frozen=True)
class ToolAnswer:
    ok: bool
    result: Any = None  # text, or the parsed JSON value (object, list, number) the app returned
    error: str | None = None


def tool_url(call: Call, name: str) -> str | None:
    """Where a tool's calls go: the tool's own ``url``, else the assistant's ``webhook_url``."""
    llm = call.assistant.get("llm_config")
    tools = llm.get("tools") if isinstance(llm, dict) else None
    for tool in tools if isinstance(tools, list) else []:
        if isinstance(tool, dict) and tool.get("name") == name:
            own = tool.get("url")
            if isinstance(own, str):
                return own
    url = call.assistant.get("webhook_url")
    return url if isinstance(url, str) and url else None


def parse_tool_reply(text: str, tool_call_id: str) -> ToolAnswer:
    """The result in a ``tool-calls`` reply, in any of the documented shapes.

    ``{"results": [{"tool_call_id", "result"}]}`` (the entry with our id, else the first),
    ``{"result": ...}``, ``{"error": "..."}`` (a failure), or any other JSON value as the result itself. A
    text result that is itself JSON (the extension serialises objects to text) is parsed.
    """
    try:
        reply = json.loads(text)
    except ValueError:  # plain text is a text result
        return (
            ToolAnswer(ok=True, result=text.strip())
            if text.strip()
            else ToolAnswer(False, error="empty reply")
        )
    if isinstance(reply, dict):
        if isinstance(reply.get("results"), list):
            entries = [r for r in reply["results"] if isinstance(r, dict)]
            mine = [r for r in entries if r.get("tool_call_id") == tool_call_id] or entries
            if not mine:
                return ToolAnswer(ok=False, error="no result in the reply")
            if "error" in mine[0] and "result" not in mine[0]:
                return ToolAnswer(ok=False, error=str(mine[0]["error"]))
            return ToolAnswer(ok=True, result=_maybe_json(mine[0].get("result")))
        if "result" in reply:
            return ToolAnswer(ok=True, result=_maybe_json(reply["result"]))
        if "error" in reply:
            return ToolAnswer(ok=False, error=str(reply["error"]))
    return ToolAnswer(ok=True, result=reply)


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
