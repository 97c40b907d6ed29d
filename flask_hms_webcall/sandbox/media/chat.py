"""Typed text from the visitor: LiveKit text streams on the ``lk.chat`` topic, as LiveKit Agents take them.

``room.localParticipant.sendText(text, {topic: "lk.chat"})`` arrives on the visitor's reliable data channel
as a ``DataPacket`` stream: a header, numbered chunks and a trailer (or, from clients speaking data streams
v2, the whole text inline in the header). A LiveKit agent's ``RoomIO`` reads each whole stream from its
linked participant and hands the text to the session, which interrupts the agent and answers it as a user
turn. :class:`ChatReceiver` reassembles the streams and passes each message's text on.

What a visitor's browser sends is not trusted: a message above :data:`MAX_CHAT_BYTES`, one that is not
UTF-8, one that is compressed into more than that, or a stream left open longer than
:data:`STREAM_SECONDS` is dropped whole (never cut: half a question could be acted on), and at most
:data:`MAX_OPEN_STREAMS` streams are reassembled at once.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError
from livekit.protocol import models

__all__ = ["MAX_CHAT_BYTES", "MAX_CHAT_CHARS", "TOPIC", "ChatReceiver", "clean_text"]

log = logging.getLogger("flask_hms_webcall.sandbox.media")

TOPIC = "lk.chat"
MAX_CHAT_CHARS = 1000  # one typed turn; the widget caps its field lower (see docs/widget.md)
MAX_CHAT_BYTES = 4 * MAX_CHAT_CHARS  # UTF-8 takes at most 4 bytes a character
MAX_PACKET_BYTES = 64 * 1024  # a data-channel message bigger than this is not parsed at all
MAX_OPEN_STREAMS = 4
STREAM_SECONDS = 10.0  # a stream not finished in this time is forgotten

_CREATE = models.DataStream.OperationType.CREATE
_DEFLATE_RAW = models.DataStream.CompressionType.DEFLATE_RAW


def clean_text(text: str) -> str:
    """The message as one line: control characters gone, runs of white space one space."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


@dataclass
class _Stream:
    started: float
    compressed: bool
    content: bytearray = field(default_factory=bytearray)
    next_index: int = 0


class ChatReceiver:
    """Reassembles the visitor's ``lk.chat`` streams from their data packets; ``on_text`` gets each one's
    text (cleaned, never empty).

    ``agent_identity``: a stream addressed to other participants only is not the assistant's to read.
    """

    def __init__(self, on_text: Callable[[str], None], *, agent_identity: str) -> None:
        self._on_text = on_text
        self._agent_identity = agent_identity
        self._streams: dict[str, _Stream] = {}

    def feed(self, message: bytes | str) -> None:
        """One message from the visitor's reliable data channel (anything: only ``lk.chat`` is read)."""
        if not isinstance(message, bytes) or len(message) > MAX_PACKET_BYTES:
            return
        try:
            packet = models.DataPacket.FromString(message)
        except (DecodeError, ValueError):
            log.debug("ignoring an undecodable data packet from the visitor")
            return
        destinations = list(packet.destination_identities)
        if destinations and self._agent_identity not in destinations:
            return
        kind = packet.WhichOneof("value")
        if kind == "stream_header":
            self._header(packet.stream_header)
        elif kind == "stream_chunk":
            self._chunk(packet.stream_chunk)
        elif kind == "stream_trailer":
            self._trailer(packet.stream_trailer)

    def _header(self, header: models.DataStream.Header) -> None:
        if header.topic != TOPIC or header.WhichOneof("content_header") != "text_header":
            return
        if header.text_header.operation_type != _CREATE:
            return  # edits, deletions and reactions are not turns
        if header.total_length > MAX_CHAT_BYTES:
            log.info("dropping a typed message of %d bytes (at most %d)", header.total_length, MAX_CHAT_BYTES)
            return
        compressed = header.compression == _DEFLATE_RAW
        if header.HasField("inline_content"):
            self._finish(bytes(header.inline_content), compressed)
            return
        now = time.monotonic()
        for stream_id in [s for s, stream in self._streams.items() if now - stream.started > STREAM_SECONDS]:
            log.info("dropping a typed message never finished within %gs", STREAM_SECONDS)
            del self._streams[stream_id]
        if len(self._streams) >= MAX_OPEN_STREAMS:
            log.info("dropping a typed message: %d are already arriving", MAX_OPEN_STREAMS)
            return
        self._streams[header.stream_id] = _Stream(started=now, compressed=compressed)

    def _chunk(self, chunk: models.DataStream.Chunk) -> None:
        stream = self._streams.get(chunk.stream_id)
        if stream is None:
            return
        if (
            chunk.chunk_index != stream.next_index
            or len(stream.content) + len(chunk.content) > MAX_CHAT_BYTES
        ):
            log.info("dropping a typed message: chunks out of order or too many bytes")
            del self._streams[chunk.stream_id]
            return
        stream.content += chunk.content
        stream.next_index += 1

    def _trailer(self, trailer: models.DataStream.Trailer) -> None:
        stream = self._streams.pop(trailer.stream_id, None)
        if stream is not None and not trailer.reason:  # a reason: the sender gave the stream up
            self._finish(bytes(stream.content), stream.compressed)

    def _finish(self, content: bytes, compressed: bool) -> None:
        if compressed:
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            try:
                content = inflater.decompress(content, MAX_CHAT_BYTES + 1)
            except zlib.error:
                log.info("dropping a typed message that does not inflate")
                return
        if len(content) > MAX_CHAT_BYTES:
            log.info("dropping a typed message of more than %d bytes", MAX_CHAT_BYTES)
            return
        try:
            text = clean_text(content.decode("utf-8"))
        except UnicodeDecodeError:
            log.info("dropping a typed message that is not UTF-8")
            return
        if len(text) > MAX_CHAT_CHARS:
            log.info("dropping a typed message of %d characters (at most %d)", len(text), MAX_CHAT_CHARS)
        elif text:
            self._on_text(text)
