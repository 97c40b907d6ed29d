"""Background work that must outlive whatever started it, run in order per call.

A call's webhooks, and the registry steps (join, end) that the media face triggers, must happen in the
order they were asked for, and a browser session's teardown must not cut them short. Each job here is
queued under its call's id: jobs of one call run one after the other, jobs of different calls side by side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("flask_hms_webcall.sandbox")


class CallQueues:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}  # by call id: the job the next one waits for

    def run(self, call_id: str, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Start ``job`` once the jobs queued before it for ``call_id`` are done. A failing job is logged
        and does not stop the ones after it."""
        previous = self._last.get(call_id)

        async def in_turn() -> None:
            try:
                if previous is not None:
                    await asyncio.wait([previous])
            except asyncio.CancelledError:
                job.close()  # never started: close it, so it is not reported as never awaited
                raise
            try:
                await job
            except Exception:
                log.exception("call %s: background job failed", call_id)

        task = asyncio.ensure_future(in_turn())
        self._tasks.add(task)
        self._last[call_id] = task

        def done(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if self._last.get(call_id) is task:
                del self._last[call_id]

        task.add_done_callback(done)
        return task

    async def close(self, grace: float) -> None:
        """Give the queued jobs ``grace`` seconds to finish, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(list(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
