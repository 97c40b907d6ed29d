"""The background work of one signalling session: every task's failure logged, all of them ended together
when the session closes."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable

__all__ = ["SessionTasks"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")


class SessionTasks:
    def __init__(self, call_id: str) -> None:
        self._call_id = call_id
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(self._guard(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if inspect.iscoroutine(coro):
            # Cancelled before it ever ran: close it, or Python warns it was never awaited.
            task.add_done_callback(lambda _: coro.close())
        return task

    async def cancel_all(self, timeout: float) -> None:
        """Cancel every task but the one calling (a task may close its own session) and wait for them."""
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def _guard(self, coro: Awaitable[None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except (ConnectionError, RuntimeError) as exc:
            log.debug("call %s: task stopped: %r", self._call_id, exc)
        except Exception:
            log.exception("call %s: a media task failed", self._call_id)
