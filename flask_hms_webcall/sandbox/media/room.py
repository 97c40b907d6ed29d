"""The room as the browser sees it: two participants (the visitor and the assistant) and their tracks.

livekit-client ignores a ``ParticipantInfo`` whose ``version`` is not newer than the one it has, so every
change goes through :meth:`Participant.info`, which bumps it.
"""

from __future__ import annotations

import secrets
import string
import time
from dataclasses import dataclass, field

from livekit.protocol import models, rtc

# livekit-client only requires a non-empty version; features such as RPC are enabled from 1.8.0 upwards.
SERVER_VERSION = "1.9.0"
SERVER_PROTOCOL = 16

AGENT_STATE = "lk.agent.state"  # "initializing" | "listening" | "thinking" | "speaking"

_ALPHABET = string.ascii_letters + string.digits


def new_sid(prefix: str) -> str:
    """A LiveKit-style id: ``PA_`` participant, ``TR_`` track, ``RM_`` room, ``AJ_`` agent job."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(12))


def audio_track(sid: str, name: str, *, muted: bool = False) -> models.TrackInfo:
    return models.TrackInfo(
        sid=sid,
        type=models.TrackType.AUDIO,
        name=name,
        source=models.TrackSource.MICROPHONE,
        mime_type="audio/opus",
        muted=muted,
    )


@dataclass
class Participant:
    identity: str
    name: str
    kind: models.ParticipantInfo.Kind = models.ParticipantInfo.Kind.STANDARD
    sid: str = field(default_factory=lambda: new_sid("PA_"))
    tracks: list[models.TrackInfo] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    state: models.ParticipantInfo.State = models.ParticipantInfo.State.ACTIVE
    joined_at: float = field(default_factory=time.time)
    _version: int = 0

    def info(self) -> models.ParticipantInfo:
        self._version += 1
        return models.ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            state=self.state,
            kind=self.kind,
            tracks=self.tracks,
            attributes=self.attributes,
            joined_at=int(self.joined_at),
            joined_at_ms=int(self.joined_at * 1000),
            version=self._version,
            is_publisher=bool(self.tracks),
            permission=models.ParticipantPermission(
                can_subscribe=True, can_publish=True, can_publish_data=True
            ),
        )


def room_info(sid: str, name: str, created_at: float, *, participants: int) -> models.Room:
    return models.Room(
        sid=sid,
        name=name,
        creation_time=int(created_at),
        creation_time_ms=int(created_at * 1000),
        num_participants=participants,
    )


def server_info() -> models.ServerInfo:
    return models.ServerInfo(
        edition=models.ServerInfo.Edition.Standard,
        version=SERVER_VERSION,
        protocol=SERVER_PROTOCOL,
        node_id="hms-sandbox",
    )


def speakers(participant: Participant, *, speaking: bool) -> rtc.SpeakersChanged:
    """What LiveKit's active-speaker detection reports of ``participant`` (its ``isSpeaking``)."""
    info = models.SpeakerInfo(sid=participant.sid, level=0.5 if speaking else 0.0, active=speaking)
    return rtc.SpeakersChanged(speakers=[info])


def final_leave(reason: models.DisconnectReason) -> rtc.LeaveRequest:
    # can_reconnect=False: the sandbox cannot resume a session, so the client must not try.
    return rtc.LeaveRequest(action=rtc.LeaveRequest.Action.DISCONNECT, reason=reason, can_reconnect=False)


def published_track(request: rtc.AddTrackRequest) -> models.TrackInfo:
    """The track the browser asked to publish, as the room announces it."""
    return models.TrackInfo(
        sid=new_sid("TR_"),
        type=request.type,
        name=request.name,
        source=request.source,
        muted=request.muted,
        stream=request.stream,
        mime_type="audio/opus" if request.type == models.TrackType.AUDIO else "",
    )


def now_ms() -> int:
    return int(time.time() * 1000)
