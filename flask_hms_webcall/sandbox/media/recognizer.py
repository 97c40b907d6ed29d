"""The assistant's ears when the speech packages are installed: PocketSphinx, offline.

``pocketsphinx`` ships an English acoustic model and pronunciation dictionary. Its general English language
model hears eSpeak's voice (and most people's) poorly, so the sandbox builds a small language model from
what its assistant listens for: the rules' phrases and examples, number words and a few everyday sentences.
That plays the part of a real STT's ``keyterms``: words the assistant cares about are heard well, anything
else comes out as the nearest words it knows. Recognition is English only (the one model shipped).

Audio arrives as 48 kHz int16 mono (the decoded WebRTC track) and is decimated to the model's 16 kHz.
"""

from __future__ import annotations

import collections
import functools
import io
import itertools
import logging
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ..language import words

log = logging.getLogger("flask_hms_webcall.sandbox.media")

MODEL_RATE = 16_000
COMFORT_DB = 30.0  # the noise floor under the speech the acoustic model hears best (see _Floor)
_TYPICAL_SPEECH_RMS = 32767 * 10 ** (-20 / 20)
_FRAME = MODEL_RATE // 50
_FLOOR_FRAMES = 100  # the quietest of the last 100 chunks (2 s of 20 ms frames) is the floor already there
HIGH_VOICE_HZ = 165.0  # a voice pitched above this (most women's, children's) is heard with HIGH_VOICE_WARP
HIGH_VOICE_WARP = 1.2
_PITCH_WINDOW = 640  # 40 ms at 16 kHz: two periods of the lowest pitch looked for (60 Hz)
_PITCH_LAGS = (MODEL_RATE // 400, MODEL_RATE // 60)  # periods of a 400 Hz to a 60 Hz voice
_VOICED_RMS = 300.0  # about -40 dBFS: quieter frames are not judged
_PITCHES_TO_JUDGE = 20  # voiced frames (0.4 s) before the voice is judged
_PITCHES_KEPT = 400  # the voice is judged on its last 8 s of voiced frames
_REDECODE_SECONDS = 30.0  # a longer turn is not kept to decode again: a new warp applies from the next turn
# How much the language model weighs against the acoustics in the last pass over a turn's word lattice
# (PocketSphinx's default is 9.5). With more weight, a word the acoustics barely favour ("going" heard for
# "nine") gives way to the word the sentence makes likely: on the benchmark's own-words tuning set the word
# error rate fell from 21.7 % to 19.5 %, and more numbers were heard right (at 7 it rose to 24.9 %; at 20 and
# 25, 19.8 % and 21.1 %).
BESTPATH_LM_WEIGHT = 15.0
ALTERNATIVES = 10  # the next best readings of a turn kept for the rules (see Recognizer.alternatives)
# Words the assistant listens for that PocketSphinx's dictionary lacks, and a word it has that sounds the
# same: "nought" (British for zero in a number, "nine nought one") is there only as "naught".
SAME_SOUND = {"nought": "naught"}


@functools.lru_cache(maxsize=1)
def available() -> bool:
    """True when ``pocketsphinx`` and its English model are installed."""
    try:
        import pocketsphinx

        return Path(pocketsphinx.get_model_path(), "en-us", "en-us").is_dir()
    except (ImportError, OSError, AttributeError):
        return False


def to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono int16 at ``rate`` → int16 at 16 kHz (48 kHz: average each 3 samples, a cheap low-pass)."""
    data = np.asarray(samples, dtype=np.int16).ravel()
    if rate == MODEL_RATE:
        return data
    if rate % MODEL_RATE == 0:
        step = rate // MODEL_RATE
        usable = len(data) - len(data) % step
        averaged: np.ndarray = data[:usable].reshape(-1, step).astype(np.int32).mean(axis=1)
        return averaged.astype(np.int16)
    n = int(len(data) * MODEL_RATE / rate)
    x = np.arange(n, dtype=np.float64) * (rate / MODEL_RATE)
    return np.interp(x, np.arange(len(data)), data.astype(np.float64)).astype(np.int16)


_building = threading.Lock()  # recognisers are built in worker threads, two calls may start at once


@functools.lru_cache(maxsize=16)
def _language_model(corpus: tuple[str, ...]) -> tuple[str, str]:
    """An ARPA language model of ``corpus`` and a dictionary of just its words, as text; built once per
    corpus and process.

    The small dictionary matters: loading the full one takes the better part of a second inside C code
    that holds the GIL, which would stall the sandbox's event loop (and the assistant's voice) mid-call.
    """
    import pocketsphinx
    from pocketsphinx.lm import ArpaBoLM

    model = ArpaBoLM(text="\n".join(corpus) + "\n", add_start=True, case="lower")
    model.compute()
    arpa = io.StringIO()
    model.write(arpa)
    words = {word for line in corpus for word in line.split()}
    # A word the dictionary lacks is heard as the word it sounds like (its entries under its own name).
    twins = {twin: word for word, twin in SAME_SOUND.items() if word in words}
    full = Path(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    entries = []
    with full.open(encoding="utf-8") as source:  # "word PH O N ES", alternatives as "word(2) ..."
        for line in source:
            name, _, phones = line.partition(" ")
            word = name.split("(", 1)[0]
            if word in words:
                entries.append(line)
            if word in twins:
                entries.append(f"{twins[word]}{name[len(word) :]} {phones}")
    return arpa.getvalue(), "".join(entries)


def _decoder(corpus: tuple[str, ...]) -> Any:
    """A PocketSphinx decoder listening with the language model of ``corpus``.

    PocketSphinx reads its models from files, and reads them whole when the decoder is made: they live in a
    private directory only that long, so a sandbox that is killed leaves nothing behind.
    """
    from pocketsphinx import Decoder

    with _building:
        arpa, dictionary = _language_model(corpus)
    with tempfile.TemporaryDirectory(prefix="hms-sandbox-lm-") as directory:
        lm, words = Path(directory, "model.arpa"), Path(directory, "model.dict")
        lm.write_text(arpa, encoding="utf-8")
        words.write_text(dictionary, encoding="utf-8")
        return Decoder(
            samprate=MODEL_RATE,
            lm=str(lm),
            dict=str(words),
            bestpathlw=BESTPATH_LM_WEIGHT,
            loglevel="FATAL",
        )


def corpus_for(sentences: Iterable[str]) -> tuple[str, ...]:
    """The language model's sentences: lower-cased, punctuation dropped (a repeated one weighs more)."""
    lines = (" ".join(words(sentence)) for sentence in sentences)
    return tuple(line for line in lines if line)


@functools.lru_cache(maxsize=1)
def _pink_noise(seconds: float = 5.0) -> np.ndarray:
    """Seeded pink noise (power falling with frequency, like a room's), unit RMS, at the model's rate.

    White noise would not do: its hiss sounds like the fricatives of "f" and "s" to the acoustic model,
    which then hears "bye" as "five".
    """
    n = int(seconds * MODEL_RATE)
    spectrum = np.fft.rfft(np.random.default_rng(0).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(n, 1 / MODEL_RATE), 20.0))
    noise = np.fft.irfft(spectrum, n)
    noise /= float(np.sqrt(np.mean(noise**2)))
    noise.setflags(write=False)  # shared by every recogniser
    return noise


class _Floor:
    """Raises the quiet between words to a noise floor COMFORT_DB under the speech, where it is lower.

    The acoustic model learnt from recordings with some room sound between the words: fed clean speech with
    digital silence around it (a synthetic voice, a browser's noise suppression), it mishears far more
    (in the benchmark, the floor takes the word error rate from 37 % to 15 %). The speech level is learnt from
    the visitor's turns (starting from a typical level after a browser's gain control), the floor already
    there from the quietest recent audio; the added noise is seeded, so a recording is always heard alike.
    """

    def __init__(self) -> None:
        self.speech = _TYPICAL_SPEECH_RMS
        self._recent: collections.deque[float] = collections.deque(maxlen=_FLOOR_FRAMES)
        self._turn: list[float] = []
        self._noise = _pink_noise()
        self._at = 0

    def level(self, data: np.ndarray) -> np.ndarray:
        if not len(data):
            return data
        x = data.astype(np.float64)
        for start in range(0, len(x), _FRAME):  # 20 ms frames, however the audio is chunked
            frame = x[start : start + _FRAME]
            rms = float(np.sqrt(np.mean(frame * frame)))
            self._recent.append(rms)
            self._turn.append(rms)
        wanted = self.speech * 10 ** (-COMFORT_DB / 20)
        have = min(self._recent)
        if have >= wanted:
            return data
        take = np.take(self._noise, np.arange(self._at, self._at + len(x)), mode="wrap")
        self._at = (self._at + len(x)) % len(self._noise)
        x += take * float(np.sqrt(wanted**2 - have**2))
        return np.clip(x, -32768, 32767).astype(np.int16)

    def turn_done(self) -> None:
        """Learn the speech level from the turn's loud frames (the top tenth), halfway each turn."""
        if len(self._turn) >= 10:
            loud = float(np.percentile(self._turn, 90))
            if loud > 4 * min(self._recent):  # speech, not noise alone
                self.speech = (self.speech + loud) / 2
        self._turn = []


def voiced_pitches(data: np.ndarray) -> np.ndarray:
    """The pitch (Hz) of each clearly voiced 40 ms frame (20 ms apart) of 16 kHz audio, by autocorrelation."""
    if len(data) < _PITCH_WINDOW:
        return np.zeros(0)
    frames = np.lib.stride_tricks.sliding_window_view(data.astype(np.float64), _PITCH_WINDOW)[::_FRAME]
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames = frames[np.sqrt(np.mean(frames * frames, axis=1)) >= _VOICED_RMS]
    if not len(frames):
        return np.zeros(0)
    spectrum = np.fft.rfft(frames, 2 * _PITCH_WINDOW, axis=1)
    correlation = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :_PITCH_WINDOW]
    lo, hi = _PITCH_LAGS
    lag = lo + np.argmax(correlation[:, lo:hi], axis=1)
    peak = correlation[np.arange(len(frames)), lag]
    voiced = peak > 0.5 * correlation[:, 0]  # a clear period: a vowel, not a fricative or noise
    pitches: np.ndarray = MODEL_RATE / lag[voiced]
    return pitches


class _Warp:
    """Vocal tract length normalisation: the warp of the frequency axis a speaker is heard with.

    The acoustic model learnt mostly from lower voices, and a higher voice comes with a shorter vocal tract,
    whose formants sit higher: the same vowel looks like another one. Warping the frequencies of a high
    voice by HIGH_VOICE_WARP brings its formants back where the model expects them (in the benchmark, the
    female voice's word error rate falls from 24 % to 19 % with a warp of 1.1, and its right rules on the
    own-words tuning set from 74 % to 80 % with 1.2, while 1.25 and 1.3 do worse; lower voices are not
    touched). The voice is
    judged on the pitch of its recent voiced frames, since pitch and vocal tract length go together.
    """

    def __init__(self) -> None:
        self.factor = 1.0
        self._pitches: collections.deque[float] = collections.deque(maxlen=_PITCHES_KEPT)

    def learn(self, turn: np.ndarray) -> bool:
        """Learn the voice from one turn's audio; True when the warp changed."""
        self._pitches.extend(voiced_pitches(turn).tolist())
        if len(self._pitches) < _PITCHES_TO_JUDGE:
            return False
        factor = HIGH_VOICE_WARP if float(np.median(self._pitches)) > HIGH_VOICE_HZ else 1.0
        changed, self.factor = factor != self.factor, factor
        return changed


class Recognizer:
    """One visitor's speech → text. ``start()``, ``feed()`` audio, ``partial()`` any time, ``finish()``.

    Building it loads the model (a fraction of a second): do that off the event loop.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._decoder = _decoder(corpus_for(phrases))
        self._in_utterance = False
        self._floor = _Floor()
        self._warp = _Warp()
        self._turn: list[np.ndarray] = []  # the utterance's audio, to decode again if the warp changes
        self._turn_samples = 0
        self._confidence: tuple[float, ...] = ()
        self._alternatives: tuple[str, ...] = ()

    @property
    def warp(self) -> float:
        """The frequency warp the speaker is heard with (1.0 until a high voice is told apart)."""
        return self._warp.factor

    def start(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
        self._decoder.start_utt()
        self._in_utterance = True
        self._turn, self._turn_samples = [], 0

    def feed(self, samples: np.ndarray, rate: int) -> None:
        if not self._in_utterance:
            self.start()
        data = self._floor.level(to_model_rate(samples, rate))
        if len(data):
            self._decoder.process_raw(data.tobytes(), False, False)
            self._turn_samples += len(data)
            if self._turn_samples <= _REDECODE_SECONDS * MODEL_RATE:  # a longer turn is not kept whole
                self._turn.append(data)

    def partial(self) -> str:
        """The best guess at the words so far."""
        return _text(self._decoder.hyp())

    def finish(self) -> str:
        """End the utterance; its words (empty if nothing was recognised)."""
        self._confidence, self._alternatives = (), ()
        if not self._in_utterance:
            return ""
        self._decoder.end_utt()
        self._in_utterance = False
        self._floor.turn_done()
        turn = np.concatenate(self._turn) if self._turn else np.zeros(0, dtype=np.int16)
        whole = len(turn) == self._turn_samples
        self._turn, self._turn_samples = [], 0
        if self._warp.learn(turn):
            self._set_warp(self._warp.factor)
            if whole:  # the turn that told a high voice apart is heard again with the warp
                self._decoder.start_utt()
                self._decoder.process_raw(turn.tobytes(), False, True)
                self._decoder.end_utt()
        best = self.partial()
        self._confidence = self._word_posteriors(best)
        self._alternatives = self._next_best(best)
        return best

    def confidence(self) -> tuple[float, ...]:
        """How sure the recogniser is of each word :meth:`finish` gave (0 to 1), in order.

        The posterior probability of each word over the utterance's word lattice: a word the acoustics and the
        language model both favour over every alternative is near 1, a close call (eSpeak's "eight" heard as
        "right") well under a half. Empty if the words and the lattice disagree (it should not happen).
        """
        return self._confidence

    def alternatives(self) -> tuple[str, ...]:
        """The recogniser's next best readings of the turn :meth:`finish` ended, best first.

        One per path through the word lattice among the ALTERNATIVES best, leaving out those that read as
        the words :meth:`finish` gave: a reading that two paths share (they differ in pauses or noise
        only) is there twice, as it is twice as likely. The rules look here when the words themselves
        make no sense of the turn (``Brain.decide``).
        """
        return self._alternatives

    def _next_best(self, best: str) -> tuple[str, ...]:
        readings = []
        for hypothesis in itertools.islice(self._decoder.nbest() or (), ALTERNATIVES):
            text = _text(hypothesis)
            if text and text != best:
                readings.append(text)
        return tuple(readings)

    def _word_posteriors(self, best: str) -> tuple[float, ...]:
        said = best.split()
        sure = [
            min(max(float(segment.prob), 0.0), 1.0)
            for segment in self._decoder.seg() or ()  # None when the turn gave no hypothesis at all
            if not segment.word.startswith(("<", "[", "+"))  # silence, noise and filler "words"
        ]
        return tuple(sure) if len(sure) == len(said) else ()

    def _set_warp(self, factor: float) -> None:
        cmn = self._decoder.get_cmn()  # settled by the warm-up and the turns so far: kept
        self._decoder.config["warp_params"] = f"{factor:g}"
        self._decoder.reinit_feat()
        self._decoder.set_cmn(cmn)


def _text(hypothesis: Any) -> str:
    """A PocketSphinx hypothesis's words ("" for none)."""
    return hypothesis.hypstr.strip() if hypothesis is not None else ""


def recognize(samples: np.ndarray, rate: int, phrases: Iterable[str]) -> str:
    """The words in a whole recording (tests and the benchmark)."""
    recognizer = Recognizer(phrases)
    recognizer.start()
    recognizer.feed(samples, rate)
    return recognizer.finish()
