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
import hashlib
import logging
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..language import words

log = logging.getLogger("flask_hms_webcall.sandbox.media")

MODEL_RATE = 16_000
COMFORT_DB = 30.0  # the noise floor under the speech the acoustic model hears best (see _Floor)
_TYPICAL_SPEECH_RMS = 32767 * 10 ** (-20 / 20)
_FRAME = MODEL_RATE // 50
_FLOOR_FRAMES = 100  # the quietest of the last 100 chunks (2 s of 20 ms frames) is the floor already there


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


@functools.lru_cache(maxsize=1)
def _model_dir() -> str:
    # This process's own directory (deleted at exit): a shared, predictable path could be planted.
    directory = tempfile.TemporaryDirectory(prefix="hms-sandbox-lm-")
    _keep.append(directory)
    return directory.name


_keep: list[tempfile.TemporaryDirectory[str]] = []


_building = threading.Lock()  # recognisers are built in worker threads, two calls may start at once


def _language_model(corpus: tuple[str, ...]) -> tuple[str, str]:
    with _building:
        return _write_language_model(corpus)


@functools.lru_cache(maxsize=16)
def _write_language_model(corpus: tuple[str, ...]) -> tuple[str, str]:
    """An ARPA language model of ``corpus`` and a dictionary of just its words, written once per corpus and
    process; their paths.

    The small dictionary matters: loading the full one takes the better part of a second inside C code
    that holds the GIL, which would stall the sandbox's event loop (and the assistant's voice) mid-call.
    """
    import pocketsphinx
    from pocketsphinx.lm import ArpaBoLM

    text = "\n".join(corpus) + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    lm_path = Path(_model_dir(), f"{digest}.arpa")
    model = ArpaBoLM(text=text, add_start=True, case="lower")
    model.compute()
    model.write_file(str(lm_path))
    words = {word for line in corpus for word in line.split()}
    full = Path(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    with full.open(encoding="utf-8") as source:  # "word PH O N ES", alternatives as "word(2) ..."
        entries = [line for line in source if line.split(" ", 1)[0].split("(", 1)[0] in words]
    dict_path = Path(_model_dir(), f"{digest}.dict")
    dict_path.write_text("".join(entries), encoding="utf-8")
    return str(lm_path), str(dict_path)


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


class Recognizer:
    """One visitor's speech → text. ``start()``, ``feed()`` audio, ``partial()`` any time, ``finish()``.

    Building it loads the model (a fraction of a second): do that off the event loop.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        from pocketsphinx import Decoder

        lm, words = _language_model(corpus_for(phrases))
        self._decoder = Decoder(samprate=MODEL_RATE, lm=lm, dict=words, loglevel="FATAL")
        self._in_utterance = False
        self._floor = _Floor()

    def start(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
        self._decoder.start_utt()
        self._in_utterance = True

    def feed(self, samples: np.ndarray, rate: int) -> None:
        if not self._in_utterance:
            self.start()
        data = self._floor.level(to_model_rate(samples, rate))
        if len(data):
            self._decoder.process_raw(data.tobytes(), False, False)

    def partial(self) -> str:
        """The best guess at the words so far."""
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""

    def finish(self) -> str:
        """End the utterance; its words (empty if nothing was recognised)."""
        if not self._in_utterance:
            return ""
        self._decoder.end_utt()
        self._in_utterance = False
        self._floor.turn_done()
        return self.partial()


def recognize(samples: np.ndarray, rate: int, phrases: Iterable[str]) -> str:
    """The words in a whole recording (tests and the benchmark)."""
    recognizer = Recognizer(phrases)
    recognizer.start()
    recognizer.feed(samples, rate)
    return recognizer.finish()
