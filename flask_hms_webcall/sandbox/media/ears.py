"""The assistant's ears: turns of the visitor's speech, as interim and final transcript text.

The energy detector (``audio.VoiceActivityDetector``) decides where a turn starts and ends in both kinds:

* :class:`EnergyEars` (the fallback without the speech packages) cannot understand words: it reports how
  long the visitor spoke ("[1.4 s of speech]").
* :class:`SpeechEars` runs PocketSphinx over the turn: the best guess so far while the visitor speaks, the
  recognised words at the end (or the duration, when no word was recognised).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import espeak
from .audio import FRAME_SAMPLES, SAMPLE_RATE, VoiceActivityDetector
from .recognizer import Recognizer

PREROLL_SECONDS = 0.3  # audio kept from before the detector fires: the recogniser needs a word's onset
WARM_UP = "Hello! This is the sandbox assistant. How can I help you today?"
# Shorter sounds are clicks or beeps, not words: the recogniser would still name a word for them (Chromium's
# fake microphone beeps for 0.1 s every 0.5 s, and "bye" would hang up).
MIN_WORD_SECONDS = 0.25
# A frame whose power sits almost all in one spectral peak is a tone (a beep, a whistle, a dial tone), not a
# voice: speech spreads over its harmonics (a voiced eSpeak frame has at most ~70 % in its strongest peak).
# A turn of such frames gets no words, however hard the recogniser tries to name one.
TONE_SHARE = 0.9


@dataclass(frozen=True)
class Heard:
    text: str  # what the transcript shows
    final: bool
    duration: float  # seconds of speech so far
    words: str = ""  # the recognised words ("" from EnergyEars, or when nothing was recognised)


def tonality(samples: np.ndarray) -> float:
    """The share of a frame's power in its strongest spectral peak (0 for silence)."""
    x = np.asarray(samples, dtype=np.float64) * np.hanning(len(samples))
    power = np.abs(np.fft.rfft(x)) ** 2
    total = float(power.sum())
    if total <= 0:
        return 0.0
    peak = int(np.argmax(power))
    return float(power[max(0, peak - 2) : peak + 3].sum()) / total


def describe_speech(seconds: float, *, final: bool) -> str:
    """What the energy ears report: how long the visitor spoke (at least 0.1 s)."""
    seconds = max(seconds, 0.1)
    return f"[{seconds:.1f} s of speech]" if final else f"[{seconds:.1f} s of speech…]"


class EnergyEars:
    recognizes_words = False

    def __init__(self) -> None:
        self.vad = VoiceActivityDetector()

    def reset(self) -> None:
        """Forget any turn in progress (the visitor talked over the assistant)."""
        self.vad.reset()

    def speaking_for(self) -> float:
        """Seconds the visitor has been speaking in the turn under way (0 between turns)."""
        return self.vad.spoken

    def feed(self, samples: np.ndarray, rate: int) -> list[Heard]:
        return [
            Heard(describe_speech(e.duration, final=e.kind == "end"), e.kind == "end", e.duration)
            for e in self.vad.feed(samples, rate)
        ]


class SpeechEars:
    recognizes_words = True

    def __init__(self, phrases: Iterable[str]) -> None:
        """Loads the recogniser (a fraction of a second): build it off the event loop."""
        self.vad = VoiceActivityDetector()
        self.recognizer = Recognizer(phrases)
        self._warm_up()
        self._preroll: collections.deque[tuple[np.ndarray, int]] = collections.deque()
        self._preroll_samples = 0
        self._in_turn = False
        self._tones: list[float] = []  # the tonality of the turn's loud frames

    def _warm_up(self) -> None:
        """Decode one spoken sentence before the visitor's first turn.

        PocketSphinx normalises each utterance by a running cepstral mean that starts from its training
        data's; until a sentence or so has gone through, a short first turn ("hello", "goodbye") is
        mostly misheard. Any speech settles it; eSpeak's is at hand.
        """
        plan = espeak.synthesize(WARM_UP)
        if plan is not None:
            self.recognizer.start()
            # Frame by frame, letting go of the GIL between frames: PocketSphinx holds it while it decodes,
            # and the whole sentence at once would stall the event loop (and the greeting's audio) for up
            # to a second on a busy machine.
            for offset in range(0, len(plan.pcm), FRAME_SAMPLES):
                self.recognizer.feed(plan.pcm[offset : offset + FRAME_SAMPLES], SAMPLE_RATE)
                time.sleep(0)
            self.recognizer.finish()

    def reset(self) -> None:
        self.vad.reset()
        self._preroll.clear()
        self._preroll_samples = 0
        if self._in_turn:
            self.recognizer.finish()
            self._in_turn = False

    def feed(self, samples: np.ndarray, rate: int) -> list[Heard]:
        events = self.vad.feed(samples, rate)
        if self._in_turn:
            self.recognizer.feed(samples, rate)
        else:
            self._keep(samples, rate)
        loud = len(samples) and np.sqrt(np.mean(np.square(samples, dtype=np.float64))) >= self.vad.threshold
        if loud:
            self._tones.append(tonality(samples))
        heard = []
        for event in events:
            if event.kind == "start":
                self.recognizer.start()
                for chunk, chunk_rate in self._preroll:  # includes this frame
                    self.recognizer.feed(chunk, chunk_rate)
                self._preroll.clear()
                self._preroll_samples = 0
                self._in_turn = True
                self._tones = self._tones[-1:]
            if event.kind == "end":
                words = self.recognizer.finish() if self._in_turn else ""
                if not self._may_be_words(event.duration):
                    words = ""
                self._in_turn = False
                self._tones = []
                text = words or describe_speech(event.duration, final=True)
                heard.append(Heard(text, True, event.duration, words))
            else:
                words = ""
                if self._in_turn and self._may_be_words(event.duration):
                    words = self.recognizer.partial()
                heard.append(Heard(words or "…", False, event.duration, words))
        return heard

    def speaking_for(self) -> float:
        """Seconds the visitor has been speaking in the turn under way (0 between turns, and for a tone)."""
        spoken = self.vad.spoken
        return spoken if spoken and self._may_be_words(spoken) else 0.0

    def _may_be_words(self, duration: float) -> bool:
        """Long enough for a word, and not a tone."""
        tone = bool(self._tones) and float(np.median(self._tones)) > TONE_SHARE
        return duration >= MIN_WORD_SECONDS and not tone

    def _keep(self, samples: np.ndarray, rate: int) -> None:
        self._preroll.append((samples, rate))
        self._preroll_samples += len(samples)
        while self._preroll and self._preroll_samples - len(self._preroll[0][0]) >= PREROLL_SECONDS * rate:
            self._preroll_samples -= len(self._preroll.popleft()[0])
