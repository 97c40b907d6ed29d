"""LiveKit signalling over a websocket: one :class:`SignalSession` per browser in a call's room.

Both paths of livekit-client 2.x are served:

* v1 (``/rtc/v1``, the default): one peer connection. The first offer arrives inside ``join_request``; the
  browser creates the data channels; the assistant's audio travels in the server's answers.
* v0 (``/rtc``, ``singlePeerConnection: false`` or the client's fallback): the server offers a subscriber
  connection carrying the assistant's audio and the data channels; the browser's publisher connection is
  answered as in v1.

The routes that start sessions are in :mod:`.routes`, their per-app state in :mod:`.hub`.

Resuming a session is not supported (aiortc cannot restart ICE): a ``reconnect`` join gets a ``leave``
that makes livekit-client reconnect in full, i.e. join again with the same token. The call's room (the
assistant, the call) outlives the session for that: see :mod:`.presence`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import WSCloseCode, WSMsgType, web
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from ...hms import AGENT_HANGUP, ERROR, USER_HANGUP
from ..calls import Call
from .datalink import DataLink
from .peer import AnsweringPeer, OfferingPeer, parse_candidate
from .room import (
    Participant,
    final_leave,
    new_sid,
    now_ms,
    published_track,
    room_info,
    server_info,
    speakers,
)
from .session_tasks import SessionTasks

if TYPE_CHECKING:
    from .hub import MediaHub
    from .presence import CallRoom

log = logging.getLogger("flask_hms_webcall.sandbox.media")

PING_INTERVAL = 5  # seconds; livekit-client pings this often and gives up after PING_TIMEOUT without a pong
PING_TIMEOUT = 15
AGENT_TRACK_WAIT_SECONDS = 10.0


class ProtocolError(Exception):
    """The browser sent something that is not LiveKit signalling; the session ends."""


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
        self.publisher = AnsweringPeer("publisher")
        self.subscriber = OfferingPeer("subscriber") if v0 else None
        self.data = DataLink()
        self._send_lock = asyncio.Lock()
        self._tasks = SessionTasks(call.call_id)
        self._in_room = False
        self._offer_id = 0
        self._closing: asyncio.Future[None] | None = None
        # How the call ends if this session ends on its own. None: it does not (the sandbox shuts down, or
        # the connection dropped and the room waits for the visitor to come back, see .presence).
        self._end_reason: str | None = None
        self._dropped = True  # until the browser says it leaves, an end of the connection is a drop
        self._end_error: str | None = None
        self._wire_peers()

    # --- for the room (presence.CallRoom), the assistant's link --------------------------------------

    @property
    def user_identity(self) -> str:
        return self.user.identity

    @property
    def user_track_sid(self) -> str | None:
        return self._user_track_sid

    async def agent_arrives(self) -> None:
        log.info("call %s: the assistant joins", self.call.call_id)
        if self.subscriber is not None:
            self.subscriber.send_track(self.voice, self.agent.sid)
            await self._send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
            await self._offer_subscriber()
            return
        self.publisher.send_track(self.voice, self.agent.sid)
        await self._send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        # The browser only receives media in answers to its own offers: ask it for a new one.
        await self._send(media_sections_requirement=rtc.MediaSectionsRequirement(num_audios=1))
        try:
            await asyncio.wait_for(self.publisher.track_attached.wait(), AGENT_TRACK_WAIT_SECONDS)
        except asyncio.TimeoutError:
            log.warning("call %s: no renegotiation for the assistant's audio", self.call.call_id)

    async def agent_changed(self) -> None:
        await self._send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        await self._send(speakers_changed=speakers(self.agent, speaking=self.assistant.state == "speaking"))

    def send_data(self, packet: bytes) -> None:
        self.data.send(packet)

    async def data_ready(self) -> None:
        await self.data.ready.wait()

    # --- lifecycle ---------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if not self.call.active:  # ended while the websocket was being opened
                await self._send_leave(models.DisconnectReason.ROOM_DELETED)
                return
            await self._start()
            await self._read_loop()
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
        await self._send(
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
        if self.subscriber is not None:
            if present:
                self.subscriber.send_track(self.voice, self.agent.sid)
            await self._offer_subscriber()
        else:
            if present:
                self.publisher.send_track(self.voice, self.agent.sid)
            if self.join is not None and self.join.HasField("publisher_offer"):
                await self._answer(self.join.publisher_offer)

    async def _read_loop(self) -> None:
        async for message in self.ws:
            if message.type == WSMsgType.BINARY:
                try:
                    request = rtc.SignalRequest.FromString(message.data)
                except DecodeError as exc:
                    raise ProtocolError(f"undecodable signal request: {exc}") from None
            elif message.type == WSMsgType.TEXT:
                try:
                    request = json_format.Parse(message.data, rtc.SignalRequest(), ignore_unknown_fields=True)
                except (json_format.ParseError, ValueError) as exc:
                    raise ProtocolError(f"undecodable JSON signal request: {exc}") from None
            else:
                break
            await self._handle(request)
            if self.ws.closed:
                break

    async def _refresh_tokens(self) -> None:
        """Keep the browser's token fresh, as LiveKit's server does: its full reconnect joins with it, and
        the one it was given may expire during a long call."""
        ttl = self.hub.config.token_ttl
        while True:
            token = self.hub.tokens.mint(identity=self.user.identity, room=self.call.room_name, ttl=ttl)
            await self._send(refresh_token=token)
            await asyncio.sleep(max(ttl / 2, 1))

    async def call_ended(self, reason: str) -> None:
        """The registry ended the call (max duration, agent hangup, ...): tell the browser, close."""
        if reason == AGENT_HANGUP and self.assistant.present:
            self.agent.state = models.ParticipantInfo.State.DISCONNECTED
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self._send(update=rtc.ParticipantUpdate(participants=[self.agent.info()]))
        if reason != USER_HANGUP:
            await self._send_leave(models.DisconnectReason.ROOM_DELETED)
        await self.close()

    async def drop(self) -> None:
        """The browser has given this connection up (it asked to resume one): close it, keep the call."""
        self.room.depart(self)
        await self.close(code=WSCloseCode.GOING_AWAY)

    async def shutdown(self) -> None:
        """The sandbox is stopping: the browser is told so; the call is left as it is."""
        self._end_reason, self._dropped = None, False
        await self._send_leave(models.DisconnectReason.SERVER_SHUTDOWN)
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
            for peer in (self.publisher, self.subscriber):
                if peer is not None:
                    with contextlib.suppress(Exception):
                        await peer.close()
        finally:
            self._closing.set_result(None)

    # --- signal requests ---------------------------------------------------------------------------------

    async def _handle(self, request: rtc.SignalRequest) -> None:
        kind = request.WhichOneof("message")
        if kind == "offer":
            await self._answer(request.offer)
        elif kind == "answer":
            if self.subscriber is None:
                raise ProtocolError("an answer, but the server made no offer")
            try:
                await self.subscriber.accept_answer(request.answer.sdp)
            except ValueError as exc:
                raise ProtocolError(str(exc)) from None
        elif kind == "trickle":
            await self._trickle(request.trickle)
        elif kind == "add_track":
            await self._publish(request.add_track)
        elif kind == "mute":
            for track in self.user.tracks:
                if track.sid == request.mute.sid:
                    track.muted = request.mute.muted
        elif kind == "ping_req":
            await self._send(
                pong_resp=rtc.Pong(last_ping_timestamp=request.ping_req.timestamp, timestamp=now_ms())
            )
        elif kind == "ping":
            await self._send(pong=now_ms())
        elif kind == "leave":
            log.info("call %s: the browser left", self.call.call_id)
            self._end_reason, self._dropped = USER_HANGUP, False
            await self.close()
        else:
            # subscription, track_setting, update_layers, sync_state, update_metadata, ...: nothing to do
            log.debug("call %s: ignoring %s", self.call.call_id, kind)

    async def _answer(self, offer: rtc.SessionDescription) -> None:
        try:
            sdp = await self.publisher.answer(offer.sdp)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        await self._send(
            answer=rtc.SessionDescription(
                type="answer", sdp=sdp, id=offer.id, mid_to_track_id=self.publisher.mid_to_track_id
            )
        )

    async def _offer_subscriber(self) -> None:
        assert self.subscriber is not None
        sdp = await self.subscriber.offer()
        self._offer_id += 1
        await self._send(
            offer=rtc.SessionDescription(
                type="offer", sdp=sdp, id=self._offer_id, mid_to_track_id=self.subscriber.mid_to_track_id
            )
        )

    async def _trickle(self, trickle: rtc.TrickleRequest) -> None:
        try:
            candidate = parse_candidate(trickle.candidateInit, loopback_only=self.hub.config.loopback_only)
        except ValueError as exc:
            log.warning("call %s: ignoring a trickled candidate: %s", self.call.call_id, exc)
            return
        if candidate is None:
            return
        peer = self.subscriber if trickle.target == rtc.SignalTarget.SUBSCRIBER else self.publisher
        if peer is None:
            return
        try:
            await peer.add_candidate(candidate)
        except Exception as exc:  # a candidate for an m-line aiortc does not know
            log.warning("call %s: could not add a candidate: %r", self.call.call_id, exc)

    async def _publish(self, request: rtc.AddTrackRequest) -> None:
        track = published_track(request)
        self.user.tracks.append(track)
        if request.type == models.TrackType.AUDIO and (
            self._user_track_sid is None or request.source == models.TrackSource.MICROPHONE
        ):
            self._user_track_sid = track.sid
        await self._send(track_published=rtc.TrackPublishedResponse(cid=request.cid, track=track))

    # --- peer connection events --------------------------------------------------------------------------

    def _wire_peers(self) -> None:
        primary = self.subscriber or self.publisher
        primary.on("connectionstatechange", lambda: self._connection_changed(primary))
        if self.subscriber is not None:
            self.data.attach(self.subscriber.reliable)
            self.publisher.on("connectionstatechange", lambda: self._connection_changed(self.publisher))

        def on_datachannel(channel: Any) -> None:
            if channel.label == "_reliable" and not self.data.attached:
                self.data.attach(channel)

        def on_track(track: Any) -> None:
            if track.kind == "audio":
                self._tasks.spawn(self.assistant.hear(track))

        self.publisher.on("datachannel", on_datachannel)
        self.publisher.on("track", on_track)

    def _connection_changed(self, peer: AnsweringPeer | OfferingPeer) -> None:
        state = peer.connection_state
        log.debug("call %s: %s connection %s", self.call.call_id, peer.name, state)
        if self._closing is not None:
            return
        if state == "connected" and peer is (self.subscriber or self.publisher) and not self._in_room:
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

    # --- sending -----------------------------------------------------------------------------------------

    async def _send(self, **message: Any) -> None:
        if self.ws.closed:
            return
        payload = rtc.SignalResponse(**message).SerializeToString()
        async with self._send_lock:
            await self.ws.send_bytes(payload)

    async def _send_leave(self, reason: models.DisconnectReason) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self._send(leave=final_leave(reason))
