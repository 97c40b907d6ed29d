"""The assistant's ears: turns of the visitor's speech, as interim and final transcript text.

The energy detector (``audio.VoiceActivityDetector``) decides where a turn starts and ends in both kinds:

* :class:`EnergyEars` (the fallback without the speech packages) cannot understand words: it reports how
  long the visitor spoke ("[1.4 s of speech]").
* :class:`SpeechEars` runs PocketSphinx over the turn: the best guess so far while the visitor speaks, the
  recognised words at the end. A turn in which no word was recognised (a cough, a beep) is shown as its
  length, with no word made up for it (a click under ``VAD_MIN_SPEECH`` is no turn at all); in a noisy
  room the detector listens above the noise (see :class:`NoiseGate`), so the talk around the visitor
  neither starts turns of its own nor splits the visitor's sentence.
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
# Speech must rise this far above the room's quietest recent moments to be speech. Six people talking at
# once (a café, a shop) fluctuate about 6 dB around their level and dip about 9 dB under it now and then,
# so their loudest moments reach about 15 dB over that floor (at 15 dB, 2 of 24 trials heard a word in the
# babble); a visitor speaking 20 dB over them stays well above the gate.
GATE_DB = 17.0
GATE_SECONDS = 3.0  # the room's floor is heard over the last 3 s: the pauses between the visitor's words
# The floor is the level the quietest 2 % of those 20 ms frames (60 ms) stay under, not the single quietest
# frame: now and then the six talkers all draw breath at once, and one frame 20 dB or more under their level
# left the gate down in a room full of talk, whose next burst became a turn of its own before the visitor's
# sentence. A sentence's pauses still hold far more than 60 ms of the room alone.
GATE_FLOOR_PERCENT = 2.0


@dataclass(frozen=True)
class Heard:
    text: str  # what the transcript shows
    final: bool
    duration: float  # seconds of speech so far
    words: str = ""  # the recognised words ("" from EnergyEars, or when nothing was recognised)
    # How sure the recogniser is of each word of ``words`` (0 to 1), on a final turn; () when unknown.
    confidence: tuple[float, ...] = ()
    # The recogniser's next best readings of a final turn's words, best first (see Recognizer.alternatives).
    alternatives: tuple[str, ...] = ()


def tonality(samples: np.ndarray) -> float:
    """The share of a frame's power in its strongest spectral peak (0 for silence)."""
    x = np.asarray(samples, dtype=np.float64) * np.hanning(len(samples))
    power = np.abs(np.fft.rfft(x)) ** 2
    total = float(power.sum())
    if total <= 0:
        return 0.0
    peak = int(np.argmax(power))
    return float(power[max(0, peak - 2) : peak + 3].sum()) / total


def is_tone(tonalities: Iterable[float]) -> bool:
    """Whether a turn whose loud frames had these tonalities is a tone (a beep, a whistle), not a voice."""
    values = list(tonalities)
    return bool(values) and float(np.median(values)) > TONE_SHARE


def is_loud(samples: np.ndarray, threshold: float) -> bool:
    """Whether a chunk's RMS reaches the detector's ``threshold``."""
    return bool(len(samples)) and float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) >= threshold


def describe_speech(seconds: float, *, final: bool) -> str:
    """What the energy ears report: how long the visitor spoke (at least 0.1 s)."""
    seconds = max(seconds, 0.1)
    return f"[{seconds:.1f} s of speech]" if final else f"[{seconds:.1f} s of speech…]"


class NoiseGate:
    """Raises the detector's threshold over a noisy room: GATE_DB above the floor of the last GATE_SECONDS
    (their quietest GATE_FLOOR_PERCENT), never below the detector's own threshold.

    The floor is taken from the quietest moments, not an average, so the visitor's own speech does not lift
    it: any sentence has short pauses, where only the room is heard. In a quiet room (or digital silence) it
    changes nothing.
    """

    def __init__(self, vad: VoiceActivityDetector) -> None:
        self.vad = vad
        self.base = vad.threshold
        self._levels: collections.deque[float] = collections.deque(maxlen=int(GATE_SECONDS * 50))

    def follow(self, samples: np.ndarray, rate: int) -> None:
        """Learn the room from one chunk of audio and set the detector's threshold for it."""
        frame = max(rate // 50, 1)
        x = np.asarray(samples, dtype=np.float64).ravel()
        for start in range(0, len(x) - frame + 1, frame):
            chunk = x[start : start + frame]
            self._levels.append(float(np.sqrt(np.mean(chunk * chunk))))
        if self._levels:
            floor = float(np.percentile(np.fromiter(self._levels, float), GATE_FLOOR_PERCENT))
            self.vad.threshold = max(self.base, floor * 10 ** (GATE_DB / 20))

    @property
    def raised(self) -> bool:
        """Whether the room is loud enough that the detector listens above it (a noisy room)."""
        return self.vad.threshold > self.base


class EnergyEars:
    recognizes_words = False

    def __init__(self) -> None:
        self.vad = VoiceActivityDetector()
        # The tonality of the turn's latest loud frames: a tone (Firefox's fake microphone is an endless
        # 1 kHz one) is no speaker, and must not talk over the assistant while the speech ears load.
        self._tones: collections.deque[float] = collections.deque(maxlen=50)

    def reset(self) -> None:
        """Forget any turn in progress (the visitor talked over the assistant)."""
        self.vad.reset()
        self._tones.clear()

    def speaking_for(self) -> float:
        """Seconds the visitor has been speaking in the turn under way (0 between turns, and for a tone)."""
        return 0.0 if is_tone(self._tones) else self.vad.spoken

    def shown(self) -> None:
        """The turn under way was shown before the ears gave any of it: every turn's end is told here."""

    def feed(self, samples: np.ndarray, rate: int) -> list[Heard]:
        events = self.vad.feed(samples, rate)
        if not self.vad.spoken:
            self._tones.clear()
        elif is_loud(samples, self.vad.threshold):
            self._tones.append(tonality(samples))
        heard = []
        for event in events:
            final = event.kind == "end"
            heard.append(Heard(describe_speech(event.duration, final=final), final, event.duration))
        return heard


class SpeechEars:
    recognizes_words = True

    def __init__(self, phrases: Iterable[str]) -> None:
        """Loads the recogniser (a fraction of a second): build it off the event loop."""
        self.vad = VoiceActivityDetector()
        self.gate = NoiseGate(self.vad)
        self.recognizer = Recognizer(phrases)
        self._warm_up()
        self._preroll: collections.deque[tuple[np.ndarray, int]] = collections.deque()
        self._preroll_samples = 0
        self._in_turn = False
        self._told = False  # whether the turn under way was shown: an interim, or the listener's "…"
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
        self.gate.follow(samples, rate)
        events = self.vad.feed(samples, rate)
        if self._in_turn:
            self.recognizer.feed(samples, rate)
        else:
            self._keep(samples, rate)
        if is_loud(samples, self.vad.threshold):
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
                self._told = False
                self._tones = self._tones[-1:]
            if event.kind == "end":
                words = self.recognizer.finish() if self._in_turn else ""
                sure = self.recognizer.confidence() if words else ()
                if not self._may_be_words(event.duration):
                    words, sure = "", ()
                # A turn without a word that showed nothing and is no tone is taken for the room, not the
                # visitor, when the room is noisy (a burst of the talk around the visitor) or the sound too
                # short for a word (a knock, a click, a breath; babble's loudest syllable just before or
                # after the visitor's sentence, which would otherwise split it and get an answer of its own).
                room = (
                    (self.gate.raised or event.duration < MIN_WORD_SECONDS)
                    and not self._told
                    and not is_tone(self._tones)
                )
                self._in_turn = False
                self._tones = []
                if words:
                    heard.append(
                        Heard(words, True, event.duration, words, sure, self.recognizer.alternatives())
                    )
                elif not room:  # the room's sound gets no transcript and no answer
                    # A beep, a cough: the transcript says how long, no word is made up for it, and the
                    # rules' fallback answers it (as the energy ears do; the visitor sees they were heard).
                    heard.append(Heard(describe_speech(event.duration, final=True), True, event.duration))
            elif self._in_turn and self._may_be_words(event.duration):
                words = self.recognizer.partial()
                if words:
                    self._told = True
                    heard.append(Heard(words, False, event.duration, words))
        return heard

    def shown(self) -> None:
        """The turn under way was shown before the ears gave any of it (the visitor took the floor over the
        assistant): its end is told even if it holds no word."""
        self._told = True

    def speaking_for(self) -> float:
        """Seconds the visitor has been speaking in the turn under way (0 between turns, and for a tone)."""
        spoken = self.vad.spoken
        return spoken if spoken and self._may_be_words(spoken) else 0.0

    def _may_be_words(self, duration: float) -> bool:
        """Long enough for a word, and not a tone."""
        return duration >= MIN_WORD_SECONDS and not is_tone(self._tones)

    def _keep(self, samples: np.ndarray, rate: int) -> None:
        self._preroll.append((samples, rate))
        self._preroll_samples += len(samples)
        while self._preroll and self._preroll_samples - len(self._preroll[0][0]) >= PREROLL_SECONDS * rate:
            self._preroll_samples -= len(self._preroll.popleft()[0])
