"""LiveKit signalling over a websocket: one :class:`SignalSession` per browser in a call's room.

Both paths of livekit-client 2.x are served:

* v1 (``/rtc/v1``, the default): one peer connection. The first offer arrives inside ``join_request``; the
  browser creates the data channels; the assistant's audio travels in the server's answers.
* v0 (``/rtc``, ``singlePeerConnection: false`` or the client's fallback): the server offers a subscriber
  connection carrying the assistant's audio and the data channels; the browser's publisher connection is
  answered as in v1.

The routes that start sessions are in :mod:`.routes`, their per-app state in :mod:`.hub`; the websocket's
messages are read and written by :mod:`.wire`, the peer connections kept by :mod:`.session_peers`.

Resuming a session is not supported (aiortc cannot restart ICE): a ``reconnect`` join gets a ``leave``
that makes livekit-client reconnect in full, i.e. join again with the same token. The call's room (the
assistant, the call) outlives the session for that: see :mod:`.presence`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, web
from livekit.protocol import models, rtc

from ...hms import AGENT_HANGUP, ERROR, USER_HANGUP
from ..calls import Call
from .chat import ChatReceiver
from .room import Participant, new_sid, now_ms, published_track, room_info, server_info, speakers
from .session_peers import Peer, SessionPeers
from .session_tasks import SessionTasks
from .wire import ProtocolError, SignalWire

if TYPE_CHECKING:
    from .hub import MediaHub
    from .presence import CallRoom

log = logging.getLogger("flask_hms_webcall.sandbox.media")

PING_INTERVAL = 5  # seconds; livekit-client pings this often and gives up after PING_TIMEOUT without a pong
PING_TIMEOUT = 15
AGENT_TRACK_WAIT_SECONDS = 10.0


class SignalSession:
    """One browser's websocket: signalling, its peer connection(s) and the assistant in its room."""

    def __init__(
        self,
        hub: MediaHub,
        ws: web.WebSocketResponse,
        call: Call,
        identity: str,
        *,
        room: CallRoom,
        join: rtc.JoinRequest | None,
        v0: bool,
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.call = call
        self.join = join
        self.v0 = v0
        self.room_sid = new_sid("RM_")
        self.user = Participant(identity=identity, name=identity)
        self.room = room
        self.agent = room.agent
        self.voice = room.voice
        self.assistant = room.assistant
        self._user_track_sid: str | None = None
        self.wire = SignalWire(ws)
        self.peers = SessionPeers(call.call_id, v0=v0, loopback_only=hub.config.loopback_only)
        self._tasks = SessionTasks(call.call_id)
        self._in_room = False
        self._closing: asyncio.Future[None] | None = None
        # How the call ends if this session ends on its own. None: it does not (the sandbox shuts down, or
        # the connection dropped and the room waits for the visitor to come back, see .presence).
        self._end_reason: str | None = None
        self._dropped = True  # until the browser says it leaves, an end of the connection is a drop
        self._end_error: str | None = None
        self._chat = ChatReceiver(self.assistant.typed, agent_identity=self.agent.identity)
        self.peers.listen(on_state=self._connection_changed, on_audio=self._hear, on_data=self._chat.feed)

    # --- for the room (presence.CallRoom), the assistant's link --------------------------------------

    @property
    def user_identity(self) -> str:
        return self.user.identity

    @property
    def user_track_sid(self) -> str | None:
        return self._user_track_sid

    async def agent_arrives(self) -> None:
        log.info("call %s: the assistant joins", self.call.call_id)
        self.peers.send_voice(self.voice, self.agent.sid)
        await self.wire.send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        if self.peers.subscriber is not None:
            await self.wire.send(offer=await self.peers.subscriber_offer())
            return
        # The browser only receives media in answers to its own offers: ask it for a new one.
        await self.wire.send(media_sections_requirement=rtc.MediaSectionsRequirement(num_audios=1))
        try:
            await asyncio.wait_for(self.peers.publisher.track_attached.wait(), AGENT_TRACK_WAIT_SECONDS)
        except asyncio.TimeoutError:
            log.warning("call %s: no renegotiation for the assistant's audio", self.call.call_id)

    async def agent_changed(self) -> None:
        await self.wire.send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        speaking = self.assistant.state == "speaking"
        await self.wire.send(speakers_changed=speakers(self.agent, speaking=speaking))

    def send_data(self, packet: bytes) -> None:
        self.peers.data.send(packet)

    async def data_ready(self) -> None:
        await self.peers.data.ready.wait()

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if not self.call.active:  # ended while the websocket was being opened
                await self.wire.send_leave(models.DisconnectReason.ROOM_DELETED)
                return
            await self._start()
            async with contextlib.aclosing(self.wire.requests()) as requests:
                async for request in requests:
                    await self._handle(request)
        except ProtocolError as exc:
            log.warning("call %s: closing the session: %s", self.call.call_id, exc)
            self._end_reason, self._end_error = ERROR, f"Media session closed: {exc}"
            self._dropped = False
        except ConnectionError:
            pass
        except Exception:
            log.exception("call %s: the media session failed", self.call.call_id)
            self._end_reason, self._end_error = ERROR, "Media session failed"
            self._dropped = False
        finally:
            if self._dropped and not self.hub.closing:
                self.room.depart(self)  # first: a rejoin may come while this one closes
            await self.close(code=WSCloseCode.PROTOCOL_ERROR if self._end_reason == ERROR else WSCloseCode.OK)
            if self.call.active and self._end_reason is not None:
                ending = self.hub.registry.end(self.call, self._end_reason, error=self._end_error)
                self.hub.lifecycle(self.call, ending)

    async def _start(self) -> None:
        present = self.assistant.present
        await self.wire.send(
            join=rtc.JoinResponse(
                room=room_info(
                    self.room_sid, self.call.room_name, self.call.created_at, participants=2 if present else 1
                ),
                participant=self.user.info(),
                other_participants=[self.agent.info()] if present else [],
                server_version=server_info().version,
                server_info=server_info(),
                subscriber_primary=self.v0,
                ping_interval=PING_INTERVAL,
                ping_timeout=PING_TIMEOUT,
            )
        )
        self._tasks.spawn(self._refresh_tokens())
        log.info(
            "call %s: %s joined room %s (%s)",
            self.call.call_id,
            self.user.identity,
            self.call.room_name,
            "v0, two peer connections" if self.v0 else "v1, one peer connection",
        )
        if present:
            self.peers.send_voice(self.voice, self.agent.sid)
        if self.peers.subscriber is not None:
            await self.wire.send(offer=await self.peers.subscriber_offer())
        elif self.join is not None and self.join.HasField("publisher_offer"):
            await self.wire.send(answer=await self.peers.answer(self.join.publisher_offer))

    async def _refresh_tokens(self) -> None:
        """Keep the browser's token fresh, as LiveKit's server does: its full reconnect joins with it, and
        the one it was given may expire during a long call."""
        ttl = self.hub.config.token_ttl
        while True:
            token = self.hub.tokens.mint(identity=self.user.identity, room=self.call.room_name, ttl=ttl)
            await self.wire.send(refresh_token=token)
            await asyncio.sleep(max(ttl / 2, 1))

    async def call_ended(self, reason: str) -> None:
        """The registry ended the call (max duration, agent hangup, ...): tell the browser, close."""
        if reason == AGENT_HANGUP and self.assistant.present:
            self.agent.state = models.ParticipantInfo.State.DISCONNECTED
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.wire.send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        if reason != USER_HANGUP:
            await self.wire.send_leave(models.DisconnectReason.ROOM_DELETED)
        await self.close()

    async def drop(self) -> None:
        """The browser has given this connection up (it asked to resume one): close it, keep the call."""
        self.room.depart(self)
        await self.close(code=WSCloseCode.GOING_AWAY)

    async def shutdown(self) -> None:
        """The sandbox is stopping: the browser is told so; the call is left as it is."""
        self._end_reason, self._dropped = None, False
        await self.wire.send_leave(models.DisconnectReason.SERVER_SHUTDOWN)
        await self.close(code=WSCloseCode.GOING_AWAY)

    async def close(self, code: int = WSCloseCode.OK) -> None:
        """Stop everything this session started: tasks, peer connections, the websocket. Idempotent."""
        if self._closing is not None:
            await asyncio.shield(self._closing)
            return
        self._closing = asyncio.get_running_loop().create_future()
        try:
            await self._tasks.cancel_all(timeout=5)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(code=code), 5)
            await self.peers.close()
        finally:
            self._closing.set_result(None)

    # --- signal requests ---------------------------------------------------------------------------------

    async def _handle(self, request: rtc.SignalRequest) -> None:
        kind = request.WhichOneof("message")
        if kind == "offer":
            await self.wire.send(answer=await self.peers.answer(request.offer))
        elif kind == "answer":
            await self.peers.accept_answer(request.answer)
        elif kind == "trickle":
            await self.peers.trickle(request.trickle)
        elif kind == "add_track":
            await self._publish(request.add_track)
        elif kind == "mute":
            for track in self.user.tracks:
                if track.sid == request.mute.sid:
                    track.muted = request.mute.muted
        elif kind == "ping_req":
            await self.wire.send(
                pong_resp=rtc.Pong(last_ping_timestamp=request.ping_req.timestamp, timestamp=now_ms())
            )
        elif kind == "ping":
            await self.wire.send(pong=now_ms())
        elif kind == "leave":
            log.info("call %s: the browser left", self.call.call_id)
            self._end_reason, self._dropped = USER_HANGUP, False
            await self.close()
        else:
            # subscription, track_setting, update_layers, sync_state, update_metadata, ...: nothing to do
            log.debug("call %s: ignoring %s", self.call.call_id, kind)

    async def _publish(self, request: rtc.AddTrackRequest) -> None:
        track = published_track(request)
        self.user.tracks.append(track)
        if request.type == models.TrackType.AUDIO and (
            self._user_track_sid is None or request.source == models.TrackSource.MICROPHONE
        ):
            self._user_track_sid = track.sid
        await self.wire.send(track_published=rtc.TrackPublishedResponse(cid=request.cid, track=track))

    # --- peer connection events --------------------------------------------------------------------------

    def _hear(self, track: Any) -> None:
        self._tasks.spawn(self.assistant.hear(track))

    def _connection_changed(self, peer: Peer) -> None:
        state = peer.connection_state
        log.debug("call %s: %s connection %s", self.call.call_id, peer.name, state)
        if self._closing is not None:
            return
        if state == "connected" and peer is self.peers.primary and not self._in_room:
            self._in_room = True
            # The visitor is in the room once media can flow: the call is in progress from here (a rejoin
            # finds it so already).
            self.hub.lifecycle(self.call, self.hub.registry.joined(self.call))
            self.room.connected(self)
        elif state == "failed":
            log.info("call %s: %s connection failed; the browser is gone", self.call.call_id, peer.name)
            self._tasks.spawn(self._fail_over())

    async def _fail_over(self) -> None:
        self.room.depart(self)
        await self.close()
