"""The visitor's side of the conversation: their microphone, listened to all call long, even while the
assistant talks.

Every frame goes through the :class:`~.echo.EchoGuard` (the assistant's own voice coming back is heard as
silence), then the ears. Each utterance the ears report gets its ``lk.segment_id``. Who has the floor
decides what becomes of it:

* the assistant is silent (listening, thinking): the utterance is the visitor's turn: its interim and
  final transcripts are published, and the final one goes to the assistant's turn inbox;
* the assistant is talking: once the visitor has spoken for ``MIN_INTERRUPTION_SECONDS`` (a cough, a click
  or a beep is shorter; a tone never counts), the assistant is asked to yield (a barge-in). If it does, or
  its line ends first, the utterance becomes a turn as above. If it does not (interruptions are off) and
  the utterance ends under its voice, the utterance is dropped: it was not heard, as LiveKit Agents drop
  speech that cannot interrupt.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from ..calls import Call
from . import transcription
from .audio import VAD_HANGOVER, to_mono_int16
from .audio import VAD_THRESHOLD as LOUD
from .ears import EnergyEars, Heard, SpeechEars
from .echo import EchoGuard

log = logging.getLogger("flask_hms_webcall.sandbox.media")

# How long the visitor must speak over the assistant before it yields (LiveKit Agents' default is 0.5 s;
# shorter here so the voice stops within half a second of the visitor's first word).
MIN_INTERRUPTION_SECONDS = 0.25
# Where the assistant's echo may be, an utterance is the visitor's only once it holds this many loud frames
# the echo does not explain (0.2 s): a frame of the echo that slips through now and then makes none.
MIN_NEAR_FRAMES = 10

__all__ = ["Floor", "Listener", "MIN_INTERRUPTION_SECONDS"]


class Floor(Protocol):
    """What the listener needs from the assistant."""

    @property
    def present(self) -> bool:
        """Whether the assistant is in the room (one that has not joined hears nothing)."""

    @property
    def speaking(self) -> bool:
        """Whether the assistant is talking."""

    def interrupt(self) -> bool:
        """The visitor speaks over the assistant: stop talking if it may; True when it has the floor now."""


class Transcripts(Protocol):
    """Where the visitor's transcripts go (the room link)."""

    @property
    def user_identity(self) -> str: ...

    @property
    def user_track_sid(self) -> str | None: ...

    def send_data(self, packet: bytes) -> None: ...


class Listener:
    def __init__(
        self,
        *,
        call: Call,
        link: Transcripts,
        floor: Floor,
        guard: EchoGuard,
        on_turn: Callable[[Heard], None],
    ) -> None:
        self.call = call
        self.link = link
        self.floor = floor
        self.guard = guard
        self.on_turn = on_turn
        self.ears: EnergyEars | SpeechEars = EnergyEars()
        self._next_ears: EnergyEars | SpeechEars | None = None
        self._segment: str | None = None  # the utterance under way
        self._accepted = False  # whether it is the visitor's turn (published, answered)
        self._latest: Heard | None = None  # its latest interim, held back until it is accepted
        self._last_voiced = 0.0  # when the last frame loud enough to be speech arrived
        self._onset = 0.0  # when the first of them arrived, after a silence as long as ends a turn
        self._near_frames = 0  # loud frames of the utterance under way that the echo does not explain
        self._now = 0.0

    def use(self, ears: EnergyEars | SpeechEars) -> None:
        """Listen with ``ears`` from the next utterance on (now, if none is under way)."""
        if self._segment is None:
            self.ears = ears
        else:
            self._next_ears = ears

    async def hear(self, track: MediaStreamTrack) -> None:
        """Consume the visitor's microphone track for as long as it lasts (aiortc queues frames otherwise)."""
        loop = asyncio.get_running_loop()
        offset: float | None = None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            # An audio track's frames are AudioFrames; recv() is typed for any track (video frames, packets).
            if not isinstance(frame, AudioFrame) or not self.floor.present:
                continue
            arrived = t = loop.time()
            if frame.pts is not None and frame.time_base is not None:
                # Frames come in bursts when the loop was busy: the sender's own clock (the RTP timestamp)
                # says when each was captured, set on this clock by the earliest any frame arrived.
                captured = float(frame.pts * frame.time_base)
                offset = t - captured if offset is None else min(offset, t - captured)
                t = captured + offset
            self.feed(to_mono_int16(frame), frame.sample_rate, t, arrived)

    def feed(self, samples: np.ndarray, rate: int, t: float, arrived: float | None = None) -> None:
        """One frame of the microphone, captured at event loop time ``t`` (``arrived`` later)."""
        near = self.guard.near_end(samples, rate, t, learn=not self.ears.vad.in_speech)
        # Once the visitor has the floor, the whole utterance is heard as it is: the echo's tail under it
        # (the assistant has just stopped) costs the recogniser less than holes in the visitor's words.
        audible = near or (self._segment is not None and self._accepted)
        arrived = t if arrived is None else arrived
        self._now = t
        events = self.ears.feed(samples if audible else np.zeros_like(samples), rate)
        if audible and len(samples) and np.sqrt(np.mean(np.square(samples, dtype=np.float64))) >= LOUD:
            if arrived - self._last_voiced > VAD_HANGOVER:
                self._onset = arrived
            self._last_voiced = arrived
            self._near_frames += near
        for heard in events:
            if heard.final and self._accepted:
                # On the monotonic clock, as the event loop's: the benchmark lines them up with a client's.
                log.info(
                    "call %s: a turn ended: its last voiced frame arrived at %.3f, its end at %.3f, "
                    "recognised at %.3f",
                    self.call.call_id,
                    self._last_voiced,
                    arrived,
                    time.monotonic(),
                )
            self._update(heard)
        if self._segment is None and self.floor.speaking and self._takes_floor():
            # Over the assistant, the visitor takes the floor as soon as they have spoken long enough, not
            # at the recogniser's first word (half a second or more into the speech): the utterance is
            # shown as "…" until its words come.
            self._segment = transcription.new_segment_id()
            self._latest = None
            self.ears.shown()
            self._accept()
        elif self._segment is not None and not self._accepted and self._takes_floor():
            self._accept()

    def _update(self, heard: Heard) -> None:
        if self._segment is None:
            self._segment = transcription.new_segment_id()
            self._accepted = not self.floor.speaking and not self.guard.echo_possible(self._now)
            self._latest = None
        if not self._accepted and self._takes_floor():
            self._take_floor()
        if self._accepted:
            self._publish(heard)
        elif heard.final:
            log.debug("call %s: %r under the assistant's voice, not heard", self.call.call_id, heard.text)
        else:
            self._latest = heard
        if heard.final:
            self._segment = None
            self._accepted = False
            self._near_frames = 0
            if self._next_ears is not None:
                self.ears, self._next_ears = self._next_ears, None

    def _takes_floor(self) -> bool:
        if self._near_frames < MIN_NEAR_FRAMES:
            return False  # as far as can be told, the assistant's own echo
        if not self.floor.speaking:
            return True  # the assistant's line ended while the visitor spoke on
        if self.ears.speaking_for() < MIN_INTERRUPTION_SECONDS:
            return False
        return self.floor.interrupt()

    def _take_floor(self) -> None:
        """The utterance under way is the visitor's turn now, over the assistant or after its line."""
        # On the monotonic clock, as the turn's timings: the benchmark splits an interruption's delay.
        log.info(
            "call %s: speech that reached the sandbox at %.3f took the floor at %.3f",
            self.call.call_id,
            self._onset,
            time.monotonic(),
        )
        self._accepted = True

    def _accept(self) -> None:
        self._take_floor()
        self._publish(self._latest or Heard("…", False, self.ears.speaking_for()))

    def _publish(self, heard: Heard) -> None:
        assert self._segment is not None
        for packet in transcription.heard_update(
            self.link.user_identity, self.link.user_track_sid, self._segment, heard.text, final=heard.final
        ):
            self.link.send_data(packet)
        if heard.final:
            self.call.add_transcript("user", heard.text)
            self.on_turn(heard)
