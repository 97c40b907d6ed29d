"""``lk.transcription`` text streams, framed as LiveKit Agents frames them, as serialized ``DataPacket``s.

A text stream is a header, numbered chunks and a trailer, each one ``DataPacket`` on the reliable data
channel. livekit-client hands the stream to ``registerTextStreamHandler("lk.transcription", ...)`` with
``participantInfo.identity`` = the packet's ``participant_identity`` and merges the trailer's attributes into
``reader.info.attributes``.

* Assistant speech: one stream per segment. The header says ``lk.transcription_final: "false"``, each word
  follows as a delta chunk when it is spoken, and the trailer says ``lk.transcription_final: "true"``.
* User speech (STT): every update is a new, complete stream with the same ``lk.segment_id`` and the full
  text so far; the last one has ``lk.transcription_final: "true"`` in its header.
"""

from __future__ import annotations

import secrets
import time
import uuid

from livekit.protocol import models

TOPIC = "lk.transcription"
SEGMENT_ID = "lk.segment_id"
TRACK_ID = "lk.transcribed_track_id"
FINAL = "lk.transcription_final"


def new_segment_id() -> str:
    return "SG_" + secrets.token_hex(6)


def _packet(
    identity: str,
    *,
    stream_header: models.DataStream.Header | None = None,
    stream_chunk: models.DataStream.Chunk | None = None,
    stream_trailer: models.DataStream.Trailer | None = None,
) -> bytes:
    # One of the three is given: they share the packet's ``value`` oneof, and protobuf leaves a None unset.
    return models.DataPacket(
        kind=models.DataPacket.Kind.RELIABLE,
        participant_identity=identity,
        stream_header=stream_header,
        stream_chunk=stream_chunk,
        stream_trailer=stream_trailer,
    ).SerializeToString()


def _header(identity: str, stream_id: str, attributes: dict[str, str]) -> bytes:
    return _packet(
        identity,
        stream_header=models.DataStream.Header(
            stream_id=stream_id,
            timestamp=int(time.time() * 1000),
            topic=TOPIC,
            mime_type="text/plain",
            attributes=attributes,
            text_header=models.DataStream.TextHeader(operation_type=models.DataStream.OperationType.CREATE),
        ),
    )


def _chunk(identity: str, stream_id: str, index: int, text: str) -> bytes:
    return _packet(
        identity,
        stream_chunk=models.DataStream.Chunk(stream_id=stream_id, chunk_index=index, content=text.encode()),
    )


def _trailer(identity: str, stream_id: str, attributes: dict[str, str] | None = None) -> bytes:
    return _packet(
        identity, stream_trailer=models.DataStream.Trailer(stream_id=stream_id, attributes=attributes or {})
    )


class SpokenSegment:
    """One segment of assistant speech as a delta stream: ``open()``, ``word()`` per word, ``close()``."""

    def __init__(self, identity: str, track_sid: str) -> None:
        self.identity = identity
        self.track_sid = track_sid
        self.segment_id = new_segment_id()
        self.stream_id = str(uuid.uuid4())
        self._next_index = 0

    def open(self) -> bytes:
        return _header(
            self.identity,
            self.stream_id,
            {FINAL: "false", TRACK_ID: self.track_sid, SEGMENT_ID: self.segment_id},
        )

    def word(self, text: str) -> bytes:
        packet = _chunk(self.identity, self.stream_id, self._next_index, text)
        self._next_index += 1
        return packet

    def close(self) -> bytes:
        return _trailer(self.identity, self.stream_id, {FINAL: "true", TRACK_ID: self.track_sid})


def heard_update(
    identity: str, track_sid: str | None, segment_id: str, text: str, *, final: bool
) -> list[bytes]:
    """One complete stream carrying the latest full text of a user segment (interim or final)."""
    stream_id = str(uuid.uuid4())
    attributes = {FINAL: "true" if final else "false", SEGMENT_ID: segment_id}
    if track_sid:
        attributes[TRACK_ID] = track_sid
    return [
        _header(identity, stream_id, attributes),
        _chunk(identity, stream_id, 0, text),
        _trailer(identity, stream_id),
    ]
