"""A call's room across signalling sessions: the assistant, its voice, and the visitor's comings and goings.

A LiveKit room does not end because one participant's network blinked. When the visitor's connection drops
without a ``leave`` (the websocket dies, the peer connection fails), the room keeps the assistant and the
call for ``departure_timeout`` seconds. A browser that comes back with the call's token within that time
(livekit-client's full reconnect: a new join with the same token) finds the same call: same call id, the
same assistant mid-conversation, the transcript going on, one report at the end. Past the timeout the call
ends as HMS ends a call whose browser disconnected: ``user_hangup``.

While the visitor is away the assistant does not talk to the empty room: an answer being spoken is cut
where the drop happened (the transcript keeps the words that went out), and nothing new is said until the
visitor is back. It never greets twice: the conversation started on the first join and carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from livekit.protocol import models

from ...hms import AGENT_HANGUP, USER_HANGUP
from ..calls import Call
from .assistant import ScriptedAssistant
from .audio import SpeechTrack
from .room import AGENT_STATE, Participant, audio_track, new_sid

if TYPE_CHECKING:
    from .hub import MediaHub
    from .signalling import SignalSession

__all__ = ["CallRoom"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")


class CallRoom:
    """The part of a call's room that outlives one browser connection; the assistant's :class:`RoomLink`."""

    def __init__(self, hub: MediaHub, call: Call) -> None:
        self.hub = hub
        self.call = call
        assistant_name = call.assistant.get("name")
        self.agent = Participant(
            identity="agent-" + new_sid("AJ_"),
            name=assistant_name if isinstance(assistant_name, str) and assistant_name else "Assistant",
            kind=models.ParticipantInfo.Kind.AGENT,
            attributes={AGENT_STATE: "initializing"} if hub.agent_state() else {},
        )
        self.voice = SpeechTrack(new_sid("TR_"))
        self.agent.tracks = [audio_track(self.voice.id, "assistant_voice")]
        join_delay = hub.agent_join_delay()
        self.assistant = ScriptedAssistant(
            call=call,
            script=hub.config.script,
            agent=self.agent,
            voice=self.voice,
            link=self,
            hang_up=self._agent_hangs_up,
            present=join_delay == 0,
            join_delay=join_delay,
            tools=hub.app["webhooks"].call_tool,
            speech=hub.config.speech,
            publish_state=bool(self.agent.attributes),
            interruptions=hub.config.interruptions,
        )
        self.session: SignalSession | None = None  # the browser's current connection, if any
        self._back = asyncio.Event()  # set while the visitor's media flows
        self._conversation: asyncio.Task[None] | None = None
        self._departure: asyncio.Task[None] | None = None
        call.disconnect = self._call_ended

    # --- the visitor ---------------------------------------------------------------------------------------

    def attach(self, session: SignalSession) -> None:
        """``session`` is now the visitor's connection (a first join, or a rejoin within the timeout)."""
        if self._departure is not None:
            self._departure.cancel()
            self._departure = None
            log.info("call %s: the visitor is back", self.call.call_id)
        self.session = session

    def connected(self, session: SignalSession) -> None:
        """Media flows on ``session``: the conversation starts, or carries on where it was."""
        if session is not self.session:
            return
        self._back.set()
        if self._conversation is None:
            self._conversation = asyncio.ensure_future(self._converse())

    def depart(self, session: SignalSession) -> None:
        """``session`` dropped without leaving: wait ``departure_timeout`` for the visitor to come back."""
        if session is not self.session or not self.call.active:
            return
        self.session = None
        self._back.clear()
        self.voice.stop_speaking()
        timeout = self.hub.config.departure_timeout
        log.info("call %s: the visitor dropped; waiting %gs for a rejoin", self.call.call_id, timeout)
        self._departure = asyncio.ensure_future(self._end_unless_back(timeout))

    async def _end_unless_back(self, timeout: float) -> None:
        await asyncio.sleep(timeout)
        self._departure = None
        if self.session is None and self.call.active:
            log.info("call %s: the visitor did not come back within %gs", self.call.call_id, timeout)
            self.hub.lifecycle(self.call, self.hub.registry.end(self.call, USER_HANGUP))

    async def _converse(self) -> None:
        try:
            await self.assistant.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("call %s: the assistant failed", self.call.call_id)

    # --- RoomLink, for the assistant ----------------------------------------------------------------------

    @property
    def user_identity(self) -> str:
        return self.session.user.identity if self.session is not None else self.call.identity

    @property
    def user_track_sid(self) -> str | None:
        return self.session.user_track_sid if self.session is not None else None

    @property
    def present(self) -> bool:
        return self._back.is_set()

    async def wait_present(self) -> None:
        await self._back.wait()

    async def agent_arrives(self) -> None:
        # With nobody connected the assistant is simply in the room: the next join response lists it.
        if self.session is not None:
            await self.session.agent_arrives()

    async def agent_changed(self) -> None:
        if self.session is not None:
            await self.session.agent_changed()

    def send_data(self, packet: bytes) -> None:
        if self.session is not None and self.present:
            self.session.send_data(packet)

    async def data_ready(self) -> None:
        while True:
            await self._back.wait()
            session = self.session
            if session is not None:
                await session.data_ready()
                return

    # --- the end -------------------------------------------------------------------------------------------

    def _agent_hangs_up(self) -> None:
        self.hub.lifecycle(self.call, self.hub.registry.end(self.call, AGENT_HANGUP))

    async def _call_ended(self, reason: str) -> None:
        """The registry ended the call (any reason): tell a connected browser, stop the assistant."""
        session = self.session
        if session is not None:
            await session.call_ended(reason)
        await self.close()

    async def close(self) -> None:
        """Stop the assistant and the grace timer; the room is gone. Idempotent."""
        if self.hub.rooms.get(self.call.call_id) is self:
            del self.hub.rooms[self.call.call_id]
        if self.call.disconnect == self._call_ended:
            self.call.disconnect = None
        current = asyncio.current_task()
        for task in (self._departure, self._conversation):
            if task is not None and task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 5)
        self.voice.stop()
