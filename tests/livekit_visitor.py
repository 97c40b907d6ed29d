"""A visitor in a sandbox call, played by the official LiveKit Python SDK (``from livekit import rtc``): a
client nobody here wrote, for the conversation tests and ``benchmarks/conversation.py``.

:class:`Visitor` joins with the token the sandbox's web-calls API gave, publishes a microphone track and
subscribes to the assistant. What it says (:meth:`Visitor.say`) goes out in real time, 10 ms at a time,
with silence in between; with :meth:`Visitor.echo` on, the assistant's voice as received is mixed back
into the microphone some milliseconds later and quieter, as a laptop's speaker and microphone would with
the browser's echo cancellation off. It records, on one clock (``time.monotonic``), the assistant's audio
level per received frame, every ``lk.transcription`` stream (the assistant's word by word) and every
``lk.agent.state``.

libwebrtc gathers no ICE candidates on the loopback interface alone: inside tests/isolated.sh's private
network namespace (``HMS_TEST_NETNS=1``) it uses the veth pair isolated.sh puts there (Firefox's default
route), or :func:`reachable_network` adds one; the sandbox still offers 127.0.0.1 only
(``--loopback-only``), which the veth end reaches.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RATE = 48_000
CHUNK = RATE // 100  # 10 ms, what the SDK's audio source takes per frame
LOUD = 32767 * 10 ** (-40 / 20)  # a received frame above -40 dBFS RMS is the assistant's voice
VETH = ("hmsveth0", "hmsveth1", "10.99.0.1", "10.99.0.2")
NAMESPACE_VETH = "hms-ns0"  # tests/isolated.sh's


def reachable_network() -> bool:
    """Inside the tests' private namespace, give libwebrtc a non-loopback interface; True if usable."""
    if not os.environ.get("HMS_TEST_NETNS"):
        return False
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False).stdout
    if VETH[0] in links or NAMESPACE_VETH in links:
        return True
    a, b, ip_a, ip_b = VETH
    for command in (
        f"ip link add {a} type veth peer name {b}",
        f"ip addr add {ip_a}/24 dev {a}",
        f"ip addr add {ip_b}/24 dev {b}",
        f"ip link set {a} up",
        f"ip link set {b} up",
    ):
        if subprocess.run(command.split(), capture_output=True, check=False).returncode != 0:
            return False
    return True


@dataclass
class Transcript:
    identity: str
    segment_id: str
    final: bool
    text: str
    received: float  # when the stream was complete
    words: list[tuple[float, str]] = field(default_factory=list)  # (arrival, chunk): the assistant's deltas


@dataclass
class Spoken:
    """A line the visitor said: when its first and last voiced samples went out."""

    onset: float
    end: float


def voiced_span(pcm: np.ndarray, threshold: float = LOUD) -> tuple[float, float]:
    """Seconds from the start of ``pcm`` to its first and past its last 10 ms chunk above ``threshold``."""
    chunks = len(pcm) // CHUNK
    if not chunks:
        return 0.0, 0.0
    rms = np.sqrt(np.mean(np.square(pcm[: chunks * CHUNK].reshape(chunks, CHUNK), dtype=np.float64), axis=1))
    voiced = np.flatnonzero(rms >= threshold)
    if not len(voiced):
        return 0.0, 0.0
    return voiced[0] * CHUNK / RATE, (voiced[-1] + 1) * CHUNK / RATE


class Visitor:
    def __init__(self) -> None:
        from livekit import rtc

        self.rtc = rtc
        self.room = rtc.Room()
        self.source = rtc.AudioSource(RATE, 1, queue_size_ms=40)
        self.agent_audio: list[tuple[float, float]] = []  # (received, RMS) per 10 ms frame
        self.transcripts: list[Transcript] = []
        self.states: list[tuple[float, str]] = []
        self._lines: collections.deque[tuple[np.ndarray, asyncio.Future[Spoken]]] = collections.deque()
        self._echo_delay = 0.0
        self._echo_gain = 0.0
        self._echo_line: collections.deque[np.ndarray] = collections.deque()
        self._tasks: list[asyncio.Task[Any]] = []
        self._changed = asyncio.Event()

    # --- the call --------------------------------------------------------------------------------------

    async def join(self, server_url: str, token: str, timeout: float = 20) -> None:
        rtc = self.rtc
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_attributes_changed", self._on_attributes)
        self.room.register_text_stream_handler("lk.transcription", self._on_text)
        await asyncio.wait_for(self.room.connect(server_url, token), timeout)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, options)
        self._tasks.append(asyncio.ensure_future(self._microphone()))
        for participant in self.room.remote_participants.values():
            state = participant.attributes.get("lk.agent.state")
            if state:
                self.states.append((time.monotonic(), state))

    async def leave(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.room.disconnect()
        await asyncio.sleep(0.2)  # the SDK's last events, delivered while this loop still runs

    # --- what the visitor does --------------------------------------------------------------------------

    def echo(self, delay: float, gain: float) -> None:
        """Mix the assistant's voice back into the microphone ``delay`` seconds late, times ``gain``."""
        self._echo_delay, self._echo_gain = delay, gain

    async def say(self, pcm: np.ndarray) -> Spoken:
        """Queue int16 48 kHz mono speech on the microphone; return once it is out, with its timing."""
        done: asyncio.Future[Spoken] = asyncio.get_running_loop().create_future()
        self._lines.append((np.asarray(pcm, dtype=np.int16), done))
        return await done

    def speak(self, pcm: np.ndarray) -> asyncio.Future[Spoken]:
        """:meth:`say` without waiting: the future resolves when the line is out."""
        return asyncio.ensure_future(self.say(pcm))

    # --- what the visitor observes ----------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                said = [(t.identity, t.final, t.text) for t in self.transcripts]
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; transcripts: {said}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.1))

    def assistant_lines(self, *, final: bool | None = None) -> list[Transcript]:
        mine = self.room.local_participant.identity
        return [t for t in self.transcripts if t.identity != mine and (final is None or t.final == final)]

    def visitor_lines(self, *, final: bool | None = None) -> list[Transcript]:
        mine = self.room.local_participant.identity
        return [t for t in self.transcripts if t.identity == mine and (final is None or t.final == final)]

    def loud_between(self, start: float, end: float) -> list[float]:
        """Arrival times of the assistant's loud frames in [start, end)."""
        return [t for t, rms in self.agent_audio if start <= t < end and rms >= LOUD]

    def first_audio_after(self, t: float) -> float | None:
        return next((at for at in self.loud_between(t, float("inf"))), None)

    def audio_stopped_after(self, t: float, quiet: float = 0.6) -> float | None:
        """The start of the first silence of at least ``quiet`` seconds in the assistant's voice after ``t``,
        once it has been followed by that much received audio."""
        frames = [(at, rms) for at, rms in self.agent_audio if at >= t]
        silent_since = None
        for at, rms in frames:
            if rms >= LOUD:
                silent_since = None
            elif silent_since is None:
                silent_since = at
            elif at - silent_since >= quiet:
                return silent_since
        return None

    def state_after(self, t: float) -> list[tuple[float, str]]:
        return [(at, s) for at, s in self.states if at >= t]

    # --- internals --------------------------------------------------------------------------------------

    def _on_track(self, track: Any, _publication: Any, participant: Any) -> None:
        if track.kind == self.rtc.TrackKind.KIND_AUDIO:
            self._tasks.append(asyncio.ensure_future(self._listen(track)))

    def _on_attributes(self, changed: dict[str, str], _participant: Any) -> None:
        state = changed.get("lk.agent.state")
        if state:
            self.states.append((time.monotonic(), state))
            self._changed.set()

    def _on_text(self, reader: Any, identity: str) -> None:
        self._tasks.append(asyncio.ensure_future(self._read(reader, identity)))

    async def _read(self, reader: Any, identity: str) -> None:
        words: list[tuple[float, str]] = []
        async for chunk in reader:
            words.append((time.monotonic(), chunk))
        attributes = reader.info.attributes or {}
        self.transcripts.append(
            Transcript(
                identity=identity,
                segment_id=attributes.get("lk.segment_id", reader.info.stream_id),
                final=attributes.get("lk.transcription_final") == "true",
                text="".join(text for _, text in words),
                received=time.monotonic(),
                words=words,
            )
        )
        self._changed.set()

    async def _listen(self, track: Any) -> None:
        stream = self.rtc.AudioStream(track, sample_rate=RATE, num_channels=1, frame_size_ms=10)
        async for event in stream:
            pcm = np.frombuffer(event.frame.data, dtype=np.int16)
            now = time.monotonic()
            self.agent_audio.append((now, float(np.sqrt(np.mean(np.square(pcm, dtype=np.float64))))))
            if self._echo_gain > 0:
                self._echo_line.append(pcm.copy())
            self._changed.set()

    async def _microphone(self) -> None:
        """10 ms frames on a steady clock: the current line, or silence, plus the echo."""
        rtc = self.rtc
        line: np.ndarray | None = None
        done: asyncio.Future[Spoken] | None = None
        position = 0
        onset = 0.0
        voiced = (0.0, 0.0)
        start = time.monotonic()
        sent = 0
        while True:
            if line is None and self._lines:
                line, done = self._lines.popleft()
                position = 0
                voiced = voiced_span(line)
            chunk = np.zeros(CHUNK, dtype=np.float64)
            if line is not None:
                piece = line[position : position + CHUNK]
                chunk[: len(piece)] += piece
                if position == 0:
                    onset = start + sent / 100
                position += CHUNK
                if position >= len(line):
                    assert done is not None
                    if not done.done():
                        done.set_result(Spoken(onset + voiced[0], onset + voiced[1]))
                    line = None
            # The echo line holds received frames: one goes out per frame sent, once the line is as long as
            # the delay (frames received in a burst are not summed, a line grown by one is cut back).
            delayed = int(round(self._echo_delay * 100))
            while len(self._echo_line) > delayed + 5:
                self._echo_line.popleft()
            if len(self._echo_line) > delayed:
                echoed = self._echo_line.popleft()[:CHUNK]
                chunk[: len(echoed)] += self._echo_gain * echoed
            frame = rtc.AudioFrame(np.clip(chunk, -32768, 32767).astype(np.int16).tobytes(), RATE, 1, CHUNK)
            await self.source.capture_frame(frame)
            sent += 1
            ahead = start + sent / 100 - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
