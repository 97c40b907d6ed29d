"""The media face's per-app state: which browser is in which room, and call-lifecycle steps that must
outlive the signalling sessions that started them."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..calls import Call, CallRegistry
from ..config import SandboxConfig
from ..tasks import CallQueues
from ..tokens import TokenAuthority

if TYPE_CHECKING:
    from .presence import CallRoom

__all__ = ["HUB", "MediaHub"]


class MediaHub:
    """The media face's per-app state: live sessions, and call-lifecycle work that must outlive them."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.rooms: dict[str, CallRoom] = {}  # by call id, from the first join until the call ends
        self._steps = CallQueues()
        self.closing = False

    @property
    def config(self) -> SandboxConfig:
        config: SandboxConfig = self.app["config"]
        return config

    @property
    def registry(self) -> CallRegistry:
        registry: CallRegistry = self.app["registry"]
        return registry

    @property
    def tokens(self) -> TokenAuthority:
        tokens: TokenAuthority = self.app["tokens"]
        return tokens

    def occupied(self, call: Call) -> bool:
        """A browser is connected to the call's room (one that dropped and may come back is not)."""
        room = self.rooms.get(call.call_id)
        return room is not None and room.session is not None

    def agent_join_delay(self) -> float | None:
        """Seconds from the visitor entering the room to the assistant joining; None: it never joins.

        Read from ``app["faults"]`` (seeded from the configuration), so a test can change it while the
        sandbox runs.
        """
        faults = self.app.get("faults")
        return self.config.agent_join_delay if faults is None else faults.agent_join_delay

    def agent_state(self) -> bool:
        """Whether the assistant publishes ``lk.agent.state`` (a fault turns it off, see ``faults``)."""
        faults = self.app.get("faults")
        return faults is None or faults.agent_state

    def lifecycle(self, call: Call, step: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a registry step (its ``joined``/``end`` coroutine) for ``call`` outside any session.

        Steps of one call run one after the other, and a session's teardown never cancels them, so the
        webhooks they trigger go out in order and complete.
        """
        return self._steps.run(call.call_id, step)

    async def close(self) -> None:
        """Server shutdown: close every session (and its peer connections), let lifecycle steps finish."""
        self.closing = True
        rooms = list(self.rooms.values())
        await asyncio.gather(*(r.session.shutdown() for r in rooms if r.session), return_exceptions=True)
        await asyncio.gather(*(r.close() for r in rooms), return_exceptions=True)
        await self._steps.close(grace=5)


HUB: web.AppKey[MediaHub] = web.AppKey("hms_sandbox_media_hub", MediaHub)
