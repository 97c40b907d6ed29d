"""The assistant's mouth when the speech packages are installed: eSpeak NG, driven through ctypes.

``espeakng-loader`` ships ``libespeak-ng`` and its voice data and nothing else (no Python API beyond the
paths), so the few C functions needed are declared here. eSpeak NG has one global state, so every synthesis
holds a lock. It is fast (a sentence takes a few milliseconds), so callers need not move it off the loop.

The audio comes out at eSpeak's own rate (22 050 Hz) and is resampled to 48 kHz for the WebRTC track; the
word events give each word's start, which paces the ``lk.transcription`` deltas.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from .audio import SAMPLE_RATE, SpeechPlan, Word

log = logging.getLogger("flask_hms_webcall.sandbox.media")

DEFAULT_VOICE = "en-us"  # American English: the accent of the recogniser's model
DEFAULT_RATE = 175  # words per minute, eSpeak NG's own default
_RATE = 1  # espeak_PARAMETER espeakRATE
_PITCH = 3  # espeak_PARAMETER espeakPITCH: 0-100, 50 the voice's own
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_TRAILING_SILENCE = 0.15  # seconds, so the last word is not clipped by the Opus encoder's look-ahead


class _Event(ctypes.Structure):  # espeak_EVENT, from speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based character offset of the word
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds from the start of the synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _VoiceSpec(ctypes.Structure):  # espeak_VOICE, from speak_lib.h
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


class _Engine:
    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        self.set_seed = getattr(lib, "espeak_ng_SetRandSeed", None)  # eSpeak NG 1.52 and later
        if self.set_seed is not None:
            self.set_seed.argtypes = [ctypes.c_long]
            self.set_seed.restype = None
        data = espeakng_loader.get_data_path().encode()
        self.rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise OSError("espeak_Initialize failed")
        self.lib = lib
        self._chunks: list[np.ndarray] = []
        self._words: list[tuple[int, int]] = []  # (text position, audio position in ms)
        self._callback = _Callback(self._on_audio)  # kept referenced: the library holds the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_WORD:
                self._words.append((events[i].text_position, events[i].audio_position))
            i += 1
        return 0  # go on

    def set_voice(self, voice: str) -> bool:
        """A voice by its name ("en-us", "en+f3"), else by its language ("en-gb" is named "en")."""
        if voice == self._voice:
            return True
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            spec = _VoiceSpec(languages=voice.encode())
            if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
                return False
        self._voice = voice
        return True

    def synth(self, text: str, rate: int, pitch: int = 50) -> tuple[np.ndarray, list[tuple[int, int]]]:
        self._chunks, self._words = [], []
        self.lib.espeak_SetParameter(_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PITCH, pitch, 0)
        data = text.encode("utf-8")
        self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        return pcm, list(self._words)


_lock = threading.Lock()
_engine: _Engine | None = None
_unavailable = False


def _get_engine() -> _Engine | None:
    global _engine, _unavailable
    if _engine is None and not _unavailable:
        try:
            _engine = _Engine()
        except (ImportError, OSError, AttributeError, RuntimeError) as exc:
            _unavailable = True
            log.debug("eSpeak NG is not available (%s): the assistant speaks in tones", exc)
    return _engine


def available() -> bool:
    """True when ``espeakng-loader`` is installed and its library loads."""
    with _lock:
        return _get_engine() is not None


def seed(value: int) -> None:
    """Make the syntheses that follow repeatable (the benchmark's figures, tests).

    The breathy voices (a female ``+f3``) add noise from two generators: eSpeak NG's own, seeded from the
    clock, and C's ``rand()``. Both are seeded; either is left alone where it cannot be reached (eSpeak NG
    before 1.52, no C library to load).
    """
    with _lock:
        engine = _get_engine()
        if engine is not None and engine.set_seed is not None:
            engine.set_seed(value)
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).srand(value)


def resample(pcm: np.ndarray, rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Linear-interpolation resampling of mono int16 audio (eSpeak's output has nothing above 11 kHz)."""
    if rate == to_rate or len(pcm) == 0:
        return pcm.astype(np.int16)
    n = int(round(len(pcm) * to_rate / rate))
    x = np.arange(n, dtype=np.float64) * (rate / to_rate)
    return np.interp(x, np.arange(len(pcm)), pcm.astype(np.float64)).astype(np.int16)


def synthesize(
    text: str, voices: Sequence[str] = (DEFAULT_VOICE,), *, rate: int = DEFAULT_RATE, pitch: int = 50
) -> SpeechPlan | None:
    """``text`` spoken by eSpeak NG at 48 kHz, with each word's start; None if eSpeak is missing.

    The first of ``voices`` eSpeak NG has is used (English if none), so an assistant configured for a real
    TTS provider's voice id still speaks, in its ``language`` if eSpeak has that. ``rate`` is in words per
    minute and ``pitch`` from 0 to 100, 50 being the voice's own (the benchmark and tests play slower,
    faster and higher speakers with them).
    """
    tokens = list(re.finditer(r"\s*\S+", text.strip()))
    if not tokens:
        return SpeechPlan(words=(), duration=0.0, pcm=np.zeros(0, dtype=np.int16))
    with _lock:
        engine = _get_engine()
        if engine is None:
            return None
        if not any(engine.set_voice(voice) for voice in voices):
            engine.set_voice(DEFAULT_VOICE)
        pcm, events = engine.synth(text.strip(), rate, pitch)
        rate = engine.rate
    pcm = np.concatenate([resample(pcm, rate), np.zeros(int(_TRAILING_SILENCE * SAMPLE_RATE), np.int16)])
    duration = len(pcm) / SAMPLE_RATE
    return SpeechPlan(words=_word_starts(tokens, events), duration=duration, pcm=pcm)


def _word_starts(tokens: list[re.Match[str]], events: list[tuple[int, int]]) -> tuple[Word, ...]:
    """Each transcript token with the start of the first eSpeak word event inside it.

    A token eSpeak gave no event of its own (punctuation, or a token read as part of its neighbour) starts
    with the one before it, so starts never go backwards.
    """
    words: list[Word] = []
    last = 0.0
    for token in tokens:
        lo, hi = token.start() + 1, token.end()  # text positions are 1-based
        inside = [ms for pos, ms in events if lo <= pos <= hi]
        start = max(last, min(inside) / 1000) if inside else last
        words.append(Word(text=token.group(), start=start))
        last = start
    return tuple(words)
