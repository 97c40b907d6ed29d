"""The scripted assistant's ears and mouth: speech-like audio for a line of text, voice activity detection.

Nothing here understands words. The "voice" is a set of amplitude-modulated harmonic tones, one burst per
word, timed like unhurried speech, so a listener (or a test reading receiver stats) hears that the assistant
talks, and for about as long as the text takes to say. The "ear" is an energy detector on 20 ms frames.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError
from av import AudioFrame

SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms, the packetisation Opus and WebRTC use
_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
_AMPLITUDE = 0.3 * 32767

# Word timing, in seconds: these give roughly 2.5 words per second for everyday English.
_WORD_BASE = 0.12
_PER_LETTER = 0.045
_WORD_MAX = 0.9
_WORD_GAP = 0.06
_PAUSE_AFTER_PUNCTUATION = 0.22
_PUNCTUATION = ",.;:!?"


@dataclass(frozen=True)
class Word:
    text: str  # as it appears in the transcript delta, with its leading space if it has one
    start: float  # seconds from the start of the utterance


@dataclass(frozen=True)
class SpeechPlan:
    """What the assistant will say and when each word starts, relative to the start of its audio."""

    words: tuple[Word, ...]
    duration: float
    pcm: np.ndarray  # int16, mono, SAMPLE_RATE

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words)


def plan_speech(text: str) -> SpeechPlan:
    """Lay out ``text`` as speech-like audio: one voiced burst per word, pauses at punctuation."""
    tokens = re.findall(r"\s*\S+", text.strip())
    words: list[Word] = []
    bursts: list[tuple[float, float, int]] = []  # (start, length, index)
    t = 0.0
    for index, token in enumerate(tokens):
        bare = token.strip()
        letters = sum(c.isalnum() for c in bare) or 1
        length = min(_WORD_BASE + _PER_LETTER * letters, _WORD_MAX)
        words.append(Word(text=token, start=t))
        bursts.append((t, length, index))
        t += length + _WORD_GAP
        if bare[-1] in _PUNCTUATION:
            t += _PAUSE_AFTER_PUNCTUATION
    duration = t
    pcm = np.zeros(int(math.ceil(duration * SAMPLE_RATE)), dtype=np.float32)
    for start, length, index in bursts:
        first = int(start * SAMPLE_RATE)
        n = int(length * SAMPLE_RATE)
        pcm[first : first + n] = _voiced_burst(n, index)
    return SpeechPlan(words=tuple(words), duration=duration, pcm=(pcm * _AMPLITUDE).astype(np.int16))


def _voiced_burst(n: int, index: int) -> np.ndarray:
    """A vowel-ish sound: a gliding fundamental with harmonics, syllable-rate modulation, soft edges."""
    t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
    f0 = 150.0 + 35.0 * math.sin(index * 1.7)  # the pitch moves from word to word, like intonation
    glide = f0 * (1.0 - 0.08 * t / max(t[-1], 1e-3)) if n else f0
    phase = 2 * np.pi * np.cumsum(glide) / SAMPLE_RATE
    tone = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
    syllables = 0.55 + 0.45 * np.abs(np.sin(np.pi * 4.5 * t))
    edge = min(n // 2, int(0.02 * SAMPLE_RATE))
    envelope = np.ones(n, dtype=np.float32)
    if edge:
        ramp = np.linspace(0.0, 1.0, edge, dtype=np.float32)
        envelope[:edge] = ramp
        envelope[-edge:] = ramp[::-1]
    return (tone / 1.75 * syllables * envelope).astype(np.float32)


class SpeechTrack(AudioStreamTrack):
    """The assistant's outgoing audio: silence, with each planned utterance played at its wall-clock slot.

    Audio is placed on a timeline tied to the event loop clock rather than to how often ``recv`` is called,
    so the transcript (timed by the same clock) stays in step with what the browser hears even when the
    track starts being pulled late or the machine is briefly too busy to pull it.
    """

    def __init__(self, track_sid: str) -> None:
        super().__init__()
        self._track_sid = track_sid
        self._epoch = asyncio.get_running_loop().time()
        self._next_pts: int | None = None
        self._scheduled: list[tuple[int, np.ndarray]] = []  # (first sample, pcm), in timeline order
        # Told of every frame as it goes out, with its event loop time (the echo guard keeps them).
        self.on_played: Callable[[float, np.ndarray, int], None] | None = None

    @property
    def id(self) -> str:  # the msid track id: livekit-client maps it to the track sid it was announced with
        return self._track_sid

    def now(self) -> float:
        """Seconds on this track's timeline."""
        return asyncio.get_running_loop().time() - self._epoch

    def at(self, timeline_seconds: float) -> float:
        """The event loop time of a point on this track's timeline."""
        return self._epoch + timeline_seconds

    def play(self, plan: SpeechPlan) -> float:
        """Schedule ``plan`` right away (after anything still playing); return its start on the timeline."""
        start = int(self.now() * SAMPLE_RATE)
        if self._scheduled:
            last_start, last_pcm = self._scheduled[-1]
            start = max(start, last_start + len(last_pcm))
        self._scheduled.append((start, plan.pcm))
        return start / SAMPLE_RATE

    def stop_speaking(self) -> None:
        """Silence from the next frame on: whatever was scheduled and not yet sent is dropped."""
        self._scheduled.clear()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = int(self.now() * SAMPLE_RATE)
        if self._next_pts is None or now - self._next_pts > SAMPLE_RATE // 2:
            # First pull, or so far behind that catching up would desynchronise the transcript: jump.
            self._next_pts = now
        delay = (self._next_pts - now) / SAMPLE_RATE
        if delay > 0:
            await asyncio.sleep(delay)
        pts = self._next_pts
        self._next_pts += FRAME_SAMPLES
        pcm = self._render(pts)
        if self.on_played is not None:
            self.on_played(self._epoch + pts / SAMPLE_RATE, pcm, SAMPLE_RATE)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = _TIME_BASE
        return frame

    def _render(self, pts: int) -> np.ndarray:
        out = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        end = pts + FRAME_SAMPLES
        while self._scheduled and self._scheduled[0][0] + len(self._scheduled[0][1]) <= pts:
            self._scheduled.pop(0)
        for start, pcm in self._scheduled:
            if start >= end:
                break
            lo, hi = max(pts, start), min(end, start + len(pcm))
            if lo < hi:
                out[lo - pts : hi - pts] = pcm[lo - start : hi - start]
        return out


# -36 dBFS: well under speech through a browser's auto gain control, well over its noise-suppressed silence.
VAD_THRESHOLD = 32767 * 10 ** (-36 / 20)
# A short end-of-turn silence. Chromium's fake microphone (the test device) beeps for ~0.1 s every 0.5 s;
# with these settings each beep is one short utterance, where a longer hangover would merge them for ever.
VAD_HANGOVER = 0.3
VAD_MIN_SPEECH = 0.04  # two frames: a lone click is not speech


@dataclass(frozen=True)
class VoiceEvent:
    kind: str  # "start", "progress" or "end"
    duration: float  # seconds of speech so far (for "end": the whole utterance)


class VoiceActivityDetector:
    """Energy-based speech detection on 20 ms frames of int16 audio.

    A frame is voiced when its RMS is at least ``threshold`` (int16 units). Speech starts at the first voiced
    frame and ends once ``hangover`` seconds pass without one; its duration runs from the first voiced frame
    to the end of the last. Time is counted in samples fed, so the result does not depend on the wall clock.
    Utterances shorter than ``min_speech`` are dropped as clicks.
    """

    def __init__(
        self,
        *,
        threshold: float = VAD_THRESHOLD,
        hangover: float = VAD_HANGOVER,
        min_speech: float = VAD_MIN_SPEECH,
        progress_every: float = 0.5,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        self.threshold = threshold
        self.hangover = hangover
        self.min_speech = min_speech
        self.progress_every = progress_every
        self.sample_rate = sample_rate
        self._window = sample_rate // 50
        self._pending = np.zeros(0, dtype=np.int16)
        self.reset()

    def reset(self) -> None:
        """Forget any utterance in progress (e.g. one that overlapped the assistant's own speech)."""
        self._clock = 0  # samples analysed
        self._speech_start: int | None = None
        self._last_voiced_end = 0
        self._announced = False
        self._next_progress = 0.0

    @property
    def in_speech(self) -> bool:
        return self._speech_start is not None

    @property
    def spoken(self) -> float:
        """Seconds from the first voiced frame of the utterance under way to its last (0 without one)."""
        if self._speech_start is None:
            return 0.0
        return (self._last_voiced_end - self._speech_start) / self.sample_rate

    def feed(self, samples: np.ndarray, sample_rate: int | None = None) -> list[VoiceEvent]:
        """Analyse mono int16 ``samples``; return the speech events they complete, in order."""
        if sample_rate is not None and sample_rate != self.sample_rate:
            self.sample_rate = sample_rate
            self._window = sample_rate // 50
            self._pending = np.zeros(0, dtype=np.int16)
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16).ravel()])
        events: list[VoiceEvent] = []
        whole = len(data) - len(data) % self._window
        for offset in range(0, whole, self._window):
            window = data[offset : offset + self._window].astype(np.float64)
            rms = math.sqrt(float(np.mean(window * window)))
            self._step(rms >= self.threshold, events)
        self._pending = data[whole:]
        return events

    def _step(self, voiced: bool, events: list[VoiceEvent]) -> None:
        frame_end = self._clock + self._window
        if voiced:
            if self._speech_start is None:
                self._speech_start = self._clock
                self._announced = False
                self._next_progress = self.min_speech
            self._last_voiced_end = frame_end
        self._clock = frame_end
        if self._speech_start is None:
            return
        spoken = (self._last_voiced_end - self._speech_start) / self.sample_rate
        silent = (self._clock - self._last_voiced_end) / self.sample_rate
        if silent >= self.hangover:
            if self._announced or spoken >= self.min_speech:
                if not self._announced:
                    events.append(VoiceEvent("start", spoken))
                events.append(VoiceEvent("end", spoken))
            self._speech_start = None
            self._announced = False
            return
        if voiced and spoken >= self._next_progress:
            events.append(VoiceEvent("progress" if self._announced else "start", spoken))
            self._announced = True
            self._next_progress = spoken + self.progress_every


def to_mono_int16(frame: AudioFrame) -> np.ndarray:
    """The samples of a decoded frame as mono int16 (aiortc's Opus decoder gives packed stereo s16)."""
    data = frame.to_ndarray()
    channels = len(frame.layout.channels) or 1
    mono: np.ndarray
    if frame.format.is_planar:
        mono = data.astype(np.float64).mean(axis=0) if data.shape[0] > 1 else data[0]
    else:
        mono = data.reshape(-1, channels).astype(np.float64).mean(axis=1) if channels > 1 else data.ravel()
    if frame.format.name.startswith("flt"):
        mono = np.asarray(mono, dtype=np.float64) * 32767
    return np.clip(mono, -32768, 32767).astype(np.int16)
