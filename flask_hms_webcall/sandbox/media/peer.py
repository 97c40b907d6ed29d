"""aiortc peer connections as the LiveKit signalling uses them, with ICE kept on the machine.

* :class:`AnsweringPeer`: the browser offers, the server answers (v1's single connection, v0's publisher).
  The assistant's audio rides in the answer, on an audio m-line the browser offered to receive.
* :class:`OfferingPeer`: the server offers (v0's subscriber connection) and opens the data channels.

No STUN or TURN server is ever configured (aiortc would fall back to a public STUN server with ``None``), so
only host candidates exist. With ``loopback_only`` they are 127.0.0.1 only: aioice skips loopback addresses
by default, so its address lookup is wrapped, and the wrapper answers "127.0.0.1" only inside sessions that
asked for it (a context variable), leaving any other aiortc user in the process alone.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable
from typing import Any

import aioice.ice
from aiortc import (
    RTCConfiguration,
    RTCIceCandidate,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription, candidate_from_sdp

log = logging.getLogger("flask_hms_webcall.sandbox.media")

_loopback_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "hms_sandbox_loopback_ice", default=False
)
_hook_installed = False


def use_loopback_ice() -> None:
    """Make every peer connection created from the current context gather 127.0.0.1 candidates only."""
    global _hook_installed
    if not _hook_installed:
        original = aioice.ice.get_host_addresses

        def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
            if _loopback_only.get():
                return ["127.0.0.1"] if use_ipv4 else ["::1"]
            return original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)

        aioice.ice.get_host_addresses = get_host_addresses
        _hook_installed = True
    _loopback_only.set(True)


def new_peer_connection() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


def label_sender(sender: RTCRtpSender, participant_sid: str, track_sid: str) -> None:
    """Make the SDP say ``a=msid:<PA_sid>|<TR_sid> <TR_sid>``, as LiveKit's SFU does.

    livekit-client splits the stream id on ``|`` to find the publishing participant; without it the track is
    dropped. aiortc has no public API for the stream id, hence the private attribute.
    """
    sender._stream_id = f"{participant_sid}|{track_sid}"


def hear_promptly(pc: RTCPeerConnection) -> None:
    """Hand the browser's audio on as it arrives rather than four packets (80 ms) late.

    aiortc's audio jitter buffer waits for four later packets before releasing one, in case packets come
    out of order; on one machine or a LAN they do not, and those 80 ms delay every interruption and
    every turn. A lost packet is waited for either way. (The buffer is private to aiortc's receiver: left
    alone if it is not where aiortc 1.x keeps it.)
    """
    for transceiver in pc.getTransceivers():
        buffer: Any = getattr(transceiver.receiver, "_RTCRtpReceiver__jitter_buffer", None)
        if transceiver.kind == "audio" and hasattr(buffer, "_prefetch"):
            buffer._prefetch = 1


def parse_candidate(candidate_init: str, *, loopback_only: bool) -> RTCIceCandidate | None:
    """A trickled ``RTCIceCandidateInit`` (JSON) as an aiortc candidate; None for end-of-candidates or one
    this server cannot use. Raises ``ValueError`` when it is malformed."""
    try:
        init = json.loads(candidate_init)
        line = init.get("candidate") or ""
        if not line:
            return None
        candidate = candidate_from_sdp(line.split(":", 1)[1] if line.startswith("candidate:") else line)
        candidate.sdpMid = init.get("sdpMid")
        candidate.sdpMLineIndex = init.get("sdpMLineIndex")
    except Exception as exc:  # json, attribute, index and assertion errors from the parser alike
        raise ValueError(f"malformed ICE candidate: {exc!r}") from None
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        raise ValueError("ICE candidate without sdpMid or sdpMLineIndex")
    if loopback_only and candidate.ip.endswith(".local"):
        # An mDNS name stands for a LAN address, unreachable from 127.0.0.1; resolving it would only stall.
        return None
    return candidate


class _Peer:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pc = new_peer_connection()
        self._remote_set = False
        self._pending: list[RTCIceCandidate] = []
        self._lock = asyncio.Lock()  # one negotiation at a time, in arrival order
        self.mid_to_track_id: dict[str, str] = {}

    async def add_candidate(self, candidate: RTCIceCandidate) -> None:
        if self._remote_set:
            await self.pc.addIceCandidate(candidate)
        else:
            self._pending.append(candidate)

    async def _remote_description_set(self) -> None:
        self._remote_set = True
        pending, self._pending = self._pending, []
        for candidate in pending:
            await self.pc.addIceCandidate(candidate)

    def on(self, event: str, handler: Callable[..., object]) -> None:
        self.pc.on(event, handler)

    @property
    def connection_state(self) -> str:
        return self.pc.connectionState

    async def close(self) -> None:
        await self.pc.close()


class AnsweringPeer(_Peer):
    """The browser offers, the server answers, attaching its tracks to m-lines the browser will receive on."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._to_attach: list[tuple[MediaStreamTrack, str]] = []  # (track, participant sid)
        self.track_attached = asyncio.Event()

    def send_track(self, track: MediaStreamTrack, participant_sid: str) -> None:
        """Attach ``track`` in the next answer that offers a free receiving m-line of its kind."""
        self._to_attach.append((track, participant_sid))

    async def answer(self, offer_sdp: str) -> str:
        """Apply the browser's offer, return the answer SDP. Raises ``ValueError`` for an unusable offer."""
        async with self._lock:
            try:
                parsed = SessionDescription.parse(offer_sdp)
                if not parsed.media:  # aiortc's parser takes any text; this is what garbage parses to
                    raise ValueError("no media sections")
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            except Exception as exc:
                raise ValueError(f"unusable offer: {exc!r}") from None
            await self._remote_description_set()
            self._attach_waiting_tracks(parsed)
            answer = await self.pc.createAnswer()
            await self.pc.setLocalDescription(answer)  # aiortc gathers here and puts candidates in the SDP
            return self.pc.localDescription.sdp

    def _attach_waiting_tracks(self, offer: SessionDescription) -> None:
        if not self._to_attach:
            return
        by_mid = {t.mid: t for t in self.pc.getTransceivers() if t.mid is not None}
        for media in offer.media:
            if not self._to_attach:
                break
            mid = media.rtp.muxId
            transceiver = by_mid.get(mid)
            track, participant_sid = self._to_attach[0]
            # aiortc types RTCRtpSender.track as never None, but a sender made for a kind has no track yet.
            sending: MediaStreamTrack | None = transceiver.sender.track if transceiver is not None else None
            if (
                transceiver is None
                or media.kind != track.kind
                or media.port == 0
                or media.direction not in ("recvonly", "sendrecv")
                or mid in self.mid_to_track_id
                or sending is not None
            ):
                continue
            self._to_attach.pop(0)
            transceiver.sender.replaceTrack(track)
            transceiver.direction = "sendonly"
            label_sender(transceiver.sender, participant_sid, track.id)
            self.mid_to_track_id[mid] = track.id
            self.track_attached.set()


class OfferingPeer(_Peer):
    """v0's subscriber connection: the server offers, opens ``_reliable``/``_lossy`` and sends the tracks."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.reliable = self.pc.createDataChannel("_reliable", ordered=True)
        self.pc.createDataChannel("_lossy", ordered=False, maxRetransmits=0)
        self._stable = asyncio.Event()
        self._stable.set()
        self._tracks: list[str] = []

    def send_track(self, track: MediaStreamTrack, participant_sid: str) -> None:
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        label_sender(transceiver.sender, participant_sid, track.id)
        self._tracks.append(track.id)

    async def offer(self) -> str:
        """A new offer with everything added so far; waits for the answer to any previous one."""
        await self._stable.wait()
        async with self._lock:
            self._stable.clear()
            offer = await self.pc.createOffer()
            await self.pc.setLocalDescription(offer)
            for transceiver in self.pc.getTransceivers():
                track = transceiver.sender.track
                if transceiver.mid is not None and track is not None and track.id in self._tracks:
                    self.mid_to_track_id[transceiver.mid] = track.id
            return self.pc.localDescription.sdp

    async def accept_answer(self, answer_sdp: str) -> None:
        async with self._lock:
            try:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
            except Exception as exc:
                raise ValueError(f"unusable answer: {exc!r}") from None
            await self._remote_description_set()
            self._stable.set()
