"""The peer connections of one signalling session and the data link on them.

v1 has one: the browser's publisher connection, which the server answers; the browser creates the data
channels, and the assistant's audio travels in the answers. v0 has two: that one, and a subscriber
connection the server offers, carrying the assistant's audio and the data channels.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiortc.mediastreams import MediaStreamTrack
from livekit.protocol import rtc

from .datalink import DataLink
from .peer import AnsweringPeer, OfferingPeer, hear_promptly, parse_candidate
from .wire import ProtocolError

__all__ = ["SessionPeers"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")

Peer = AnsweringPeer | OfferingPeer
# aiortc's close can wait for ever on a transport that never answers (aiortc#283): the call's end, which
# waits for its session to close, must not.
PEER_CLOSE_SECONDS = 5.0


class SessionPeers:
    def __init__(self, call_id: str, *, v0: bool, loopback_only: bool) -> None:
        self._call_id = call_id
        self._loopback_only = loopback_only
        self.publisher = AnsweringPeer("publisher")
        self.subscriber = OfferingPeer("subscriber") if v0 else None
        self.data = DataLink()
        self._offer_id = 0

    @property
    def primary(self) -> Peer:
        """The connection that carries the assistant's voice: once it connects, the visitor is in the room."""
        return self.subscriber or self.publisher

    def listen(
        self,
        *,
        on_state: Callable[[Peer], None],
        on_audio: Callable[[Any], None],
        on_data: Callable[[bytes | str], None],
    ) -> None:
        """Call ``on_state(peer)`` when a connection's state changes, ``on_audio(track)`` for the browser's
        audio, ``on_data(message)`` for what it sends on its reliable channel; the data link takes the
        reliable channel (the server's own in v0, the browser's in v1)."""
        primary = self.primary
        primary.on("connectionstatechange", lambda: on_state(primary))
        if self.subscriber is not None:
            self.data.attach(self.subscriber.reliable)
            self.publisher.on("connectionstatechange", lambda: on_state(self.publisher))

        def on_datachannel(channel: Any) -> None:
            if channel.label != "_reliable":
                return
            channel.on("message", on_data)  # the browser's packets (typed text) come on its own channel
            if not self.data.attached:
                self.data.attach(channel)

        def on_track(track: Any) -> None:
            if track.kind == "audio":
                hear_promptly(self.publisher.pc)
                on_audio(track)

        self.publisher.on("datachannel", on_datachannel)
        self.publisher.on("track", on_track)

    def send_voice(self, voice: MediaStreamTrack, participant_sid: str) -> None:
        """The assistant's voice, on the connection that carries it to the browser."""
        self.primary.send_track(voice, participant_sid)

    async def answer(self, offer: rtc.SessionDescription) -> rtc.SessionDescription:
        """The answer to the browser's offer on its publisher connection."""
        try:
            sdp = await self.publisher.answer(offer.sdp)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None
        return rtc.SessionDescription(
            type="answer", sdp=sdp, id=offer.id, mid_to_track_id=self.publisher.mid_to_track_id
        )

    async def subscriber_offer(self) -> rtc.SessionDescription:
        """A new offer on the subscriber connection (v0 only)."""
        assert self.subscriber is not None
        sdp = await self.subscriber.offer()
        self._offer_id += 1
        return rtc.SessionDescription(
            type="offer", sdp=sdp, id=self._offer_id, mid_to_track_id=self.subscriber.mid_to_track_id
        )

    async def accept_answer(self, answer: rtc.SessionDescription) -> None:
        if self.subscriber is None:
            raise ProtocolError("an answer, but the server made no offer")
        try:
            await self.subscriber.accept_answer(answer.sdp)
        except ValueError as exc:
            raise ProtocolError(str(exc)) from None

    async def trickle(self, trickle: rtc.TrickleRequest) -> None:
        """A candidate the browser trickled, to the connection it names; one that cannot be used is logged."""
        try:
            candidate = parse_candidate(trickle.candidateInit, loopback_only=self._loopback_only)
        except ValueError as exc:
            log.warning("call %s: ignoring a trickled candidate: %s", self._call_id, exc)
            return
        if candidate is None:
            return
        peer = self.subscriber if trickle.target == rtc.SignalTarget.SUBSCRIBER else self.publisher
        if peer is None:
            return
        try:
            await peer.add_candidate(candidate)
        except Exception as exc:  # a candidate for an m-line aiortc does not know
            log.warning("call %s: could not add a candidate: %r", self._call_id, exc)

    async def close(self) -> None:
        for peer in (self.publisher, self.subscriber):
            if peer is None:
                continue
            try:
                await asyncio.wait_for(peer.close(), PEER_CLOSE_SECONDS)
            except asyncio.TimeoutError:  # not yet the built-in TimeoutError on Python 3.10
                log.warning("call %s: the %s connection did not close in time", self._call_id, peer.name)
            except Exception:  # a peer connection that failed half-way closes as far as it can
                log.debug(
                    "call %s: closing the %s connection failed", self._call_id, peer.name, exc_info=True
                )
