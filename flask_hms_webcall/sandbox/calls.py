"""The sandbox's calls: created by the API face, joined and ended by the media face, reported by webhooks.

This is the one piece of state both faces share. Everything runs on the sandbox's single asyncio loop, so
no locking is needed; every timer is an asyncio task owned by its call.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..hms import (
    END_OF_CALL_REPORT,
    ERROR,
    MAX_DURATION,
    STATUS_ENDED,
    STATUS_IN_PROGRESS,
    STATUS_QUEUED,
    STATUS_UPDATE,
)
from .config import SandboxConfig

log = logging.getLogger("flask_hms_webcall.sandbox")


class ConcurrencyLimitReached(Exception):
    """The org already has the maximum number of active web calls."""


@dataclass
class Call:
    call_id: str
    room_name: str
    identity: str  # the browser participant's identity, as put in its token
    assistant: dict[str, Any]  # the resolved assistant config (saved + override, or transient)
    created_at: float = field(default_factory=time.time)
    status: str = STATUS_QUEUED  # queued -> in-progress -> ended
    joined_at: float | None = None
    ended_at: float | None = None
    ended_reason: str | None = None
    # HMS's messages: {"role", "content"}, and {"role": "assistant", "tool_calls"} / {"role": "tool"}.
    transcript: list[dict[str, Any]] = field(default_factory=list)
    assistant_id: str | None = None  # the saved assistant it was created from (None: transient)
    mode: str = "reference"  # "reference", "hybrid" or "transient" (the Web Calls page's modes)
    error: str | None = None  # why it ended, when ended_reason is an error
    # Set by the media face while a browser is in the room: ends that session (sends the leave, closes).
    disconnect: Callable[[str], Awaitable[None]] | None = None
    _timers: list[asyncio.Task[None]] = field(default_factory=list, repr=False)

    @property
    def active(self) -> bool:
        return self.status != STATUS_ENDED

    @property
    def metadata(self) -> dict[str, Any]:
        value = self.assistant.get("metadata")
        return value if isinstance(value, dict) else {}

    @property
    def duration_seconds(self) -> int:
        if self.joined_at is None:
            return 0
        end = self.ended_at if self.ended_at is not None else time.time()
        return max(0, math.ceil(end - self.joined_at))

    def add_transcript(self, role: str, content: str) -> None:
        self.transcript.append({"role": role, "content": content})

    def add_message(self, message: dict[str, Any]) -> None:
        """A transcript entry beyond role and content (a tool call, a tool's result)."""
        self.transcript.append(message)


Notifier = Callable[[Call, str], Awaitable[None]]


class CallRegistry:
    """Creates calls within the org limits and runs their lifecycle timers.

    ``notify(call, event_type)`` is awaited for ``"status-update"`` (on join and on end) and
    ``"end-of-call-report"`` (on end of a call that was joined); the webhook face decides where they go.
    """

    def __init__(self, config: SandboxConfig, notify: Notifier) -> None:
        self.config = config
        self._notify = notify
        self._calls: dict[str, Call] = {}
        self._by_room: dict[str, Call] = {}
        self.credits_seconds = config.credits_seconds
        self.create_requests = 0  # every POST /v1/web-calls that passed authentication

    def active_calls(self) -> list[Call]:
        return [c for c in self._calls.values() if c.active]

    def all_calls(self) -> list[Call]:
        return list(self._calls.values())

    def get(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def by_room(self, room_name: str) -> Call | None:
        return self._by_room.get(room_name)

    @property
    def out_of_credits(self) -> bool:
        return self.credits_seconds is not None and self.credits_seconds <= 0

    @property
    def at_capacity(self) -> bool:
        return len(self.active_calls()) >= self.config.max_concurrent_calls

    def create(
        self, assistant: dict[str, Any], *, assistant_id: str | None = None, mode: str = "reference"
    ) -> Call:
        if self.at_capacity:
            raise ConcurrencyLimitReached
        call_id = str(uuid.uuid4())
        call = Call(
            call_id=call_id,
            room_name=f"web-{call_id[:8]}",
            identity=f"web-user-{secrets.token_hex(4)}",
            assistant=assistant,
            assistant_id=assistant_id,
            mode=mode,
        )
        self._calls[call_id] = call
        self._by_room[call.room_name] = call
        call._timers.append(asyncio.ensure_future(self._delete_if_unjoined(call)))
        log.info("call %s created (room %s)", call_id, call.room_name)
        return call

    async def joined(self, call: Call) -> None:
        """The browser is in the room: the call is in progress and its max-duration clock runs."""
        if call.status != STATUS_QUEUED:
            return
        call.status = STATUS_IN_PROGRESS
        call.joined_at = time.time()
        call._timers.append(asyncio.ensure_future(self._end_at_max_duration(call)))
        await self._notify(call, STATUS_UPDATE)

    async def end(self, call: Call, reason: str, *, error: str | None = None) -> None:
        """End the call once (later calls are no-ops): disconnect the browser, free the slot, report."""
        if not call.active:
            return
        was_joined = call.joined_at is not None
        call.status = STATUS_ENDED
        call.ended_at = time.time()
        call.ended_reason = reason
        call.error = error
        current = asyncio.current_task()
        for task in call._timers:
            if task is not current:
                task.cancel()
        if call.disconnect is not None:
            disconnect, call.disconnect = call.disconnect, None
            try:
                await disconnect(reason)
            except Exception:  # a broken media session must not stop the report
                log.exception("disconnecting call %s failed", call.call_id)
        if was_joined and self.credits_seconds is not None:
            self.credits_seconds -= call.duration_seconds
        log.info("call %s ended: %s after %ss", call.call_id, reason, call.duration_seconds)
        await self._notify(call, STATUS_UPDATE)
        if was_joined:
            await self._notify(call, END_OF_CALL_REPORT)

    async def _delete_if_unjoined(self, call: Call) -> None:
        await asyncio.sleep(self.config.unjoined_room_ttl)
        if call.status == STATUS_QUEUED:
            log.info(
                "room %s deleted: nobody joined within %ss", call.room_name, self.config.unjoined_room_ttl
            )
            await self.end(
                call, ERROR, error=f"Room deleted: nobody joined within {self.config.unjoined_room_ttl:g} s"
            )

    async def _end_at_max_duration(self, call: Call) -> None:
        await asyncio.sleep(self.config.max_duration)
        await self.end(call, MAX_DURATION)

    async def close(self) -> None:
        for call in self._calls.values():
            for task in call._timers:
                task.cancel()
