"""The assistant's ears in a noisy room and with the words people use (audio made with eSpeak NG here)."""

from __future__ import annotations

import numpy as np
import pytest

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE
from flask_hms_webcall.sandbox.media.ears import Heard, SpeechEars
from tests.conftest import require

# Six other people talking at once, each their own text in their own voice (a busy shop).
TALKERS = (
    ("en-us", 60, "the train to the city was late again so we walked along the river to the market"),
    ("en-gb+f2", 70, "my sister bought a new car last month and drives it to the coast every weekend"),
    ("en-us+m3", 40, "if you add a little salt to the water the pasta tastes much better when done"),
    ("en-gb", 50, "the football match was cancelled because of the rain and nobody got a refund"),
    ("en-us+f4", 65, "we should paint the kitchen yellow and put some plants by the window in spring"),
    ("en+m7", 45, "the library closes early in winter so the students study in the cafe down the road"),
)


@pytest.fixture(scope="module")
def speech():
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")


@pytest.fixture(scope="module")
def brain() -> Brain:
    return Brain(parse_rules(DEFAULT_RULES))


@pytest.fixture(scope="module")
def ears(speech, brain) -> SpeechEars:
    # The ears warm up on a sentence of eSpeak's, whose breath noise is random: seeded, whatever ran before
    # in this process, so that what they carry into the first test is the same every run.
    espeak.seed(0)
    return SpeechEars(brain.phrases())


def level(pcm: np.ndarray) -> float:
    """The RMS of the 20 ms frames louder than -50 dBFS: the speech, not the pauses."""
    frames = pcm[: len(pcm) - len(pcm) % FRAME_SAMPLES].astype(np.float64).reshape(-1, FRAME_SAMPLES)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = frames[rms > 32767 * 10 ** (-50 / 20)]
    return float(np.sqrt(np.mean(loud**2)))


def babble(seconds: float, rms: float) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    mix = np.zeros(n)
    for k, (voice, pitch, text) in enumerate(TALKERS):
        espeak.seed(k)
        talker = espeak.synthesize(f"{text}. {text}.", [voice], pitch=pitch).pcm.astype(np.float64)
        mix += np.take(talker, np.arange(k * SAMPLE_RATE // 3, k * SAMPLE_RATE // 3 + n), mode="wrap")
    return mix * (rms / float(np.sqrt(np.mean(mix**2))))


def listen(ears: SpeechEars, pcm: np.ndarray) -> list[Heard]:
    heard = []
    for offset in range(0, len(pcm), FRAME_SAMPLES):
        heard += ears.feed(pcm[offset : offset + FRAME_SAMPLES], SAMPLE_RATE)
    return heard


def test_a_sentence_in_a_babble_of_six_talkers_is_one_turn_and_understood(ears, brain):
    espeak.seed(1)
    sentence = espeak.synthesize("What are your opening hours on Saturday?").pcm.astype(np.float64)
    said = np.concatenate([np.zeros(3 * SAMPLE_RATE), sentence, np.zeros(SAMPLE_RATE)])
    noisy = said + babble(len(said) / SAMPLE_RATE, level(sentence.astype(np.int16)) / 10)  # 20 dB under
    finals = [h for h in listen(ears, np.clip(noisy, -32768, 32767).astype(np.int16)) if h.final]
    assert len(finals) == 1, [h.text for h in finals]
    assert brain.decide(finals[0].words).text.startswith("We are open"), finals[0].words


def test_other_people_talking_is_not_the_visitors_turn(ears):
    # Six talkers 40 dB under full scale (the level under a visitor speaking at -20 dBFS, 20 dB over them).
    noise = babble(6.0, 32767 * 10 ** (-40 / 20))
    assert listen(ears, np.clip(noise, -32768, 32767).astype(np.int16)) == []


def test_a_turn_without_words_is_shown_as_its_length_with_no_words(ears):
    # A beep (Chromium's fake microphone) is loud enough to be a turn but holds no words: the transcript says
    # how long it was, no word is made up for it (the rules answer with their fallback).
    t = np.arange(int(0.5 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = (np.sin(2 * np.pi * 1000 * t) * 8000).astype(np.int16)
    quiet = np.zeros(SAMPLE_RATE // 2, dtype=np.int16)
    heard = listen(ears, np.concatenate([quiet, tone, quiet]))
    assert [(h.final, h.words) for h in heard] == [(True, "")] and "s of speech]" in heard[0].text, heard


def hiss(seconds: float, rms: float, seed: int = 0) -> np.ndarray:
    """White noise: no tone, and no word the recogniser would name in a burst too short for one."""
    return np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE)) * rms


@pytest.mark.parametrize("room", [0.0, 32767 * 10 ** (-45 / 20)], ids=["quiet room", "cafe"])
def test_a_sound_too_short_for_a_word_is_no_turn_in_any_room(speech, brain, room):
    # A noisy room (a café: steady noise the gate listens above) makes bursts of its own, and babble's
    # loudest syllable comes just before or after the visitor's sentence; a knock or a breath does so in a
    # quiet room. None may get in front of the visitor's sentence as a turn answered by the fallback (a beep,
    # a tone, still is one: see above). The burst: 0.15 s of hiss, 20 dB over the room (loud in a quiet one).
    ears = SpeechEars(brain.phrases())
    burst = hiss(0.15, max(room, 32767 * 10 ** (-45 / 20)) * 10, seed=1)
    before, after = hiss(4.0, room, seed=2), hiss(1.0, room, seed=3)
    heard = listen(ears, np.clip(np.concatenate([before, burst, after]), -32768, 32767).astype(np.int16))
    assert heard == [], heard


def test_a_noisy_room_that_falls_silent_for_a_moment_is_still_no_turn(speech, brain):
    # A café's steady noise, louder than the detector's own threshold: only the gate, raised over it, keeps it
    # from being a turn. Now and then the room falls silent for one 20 ms frame (six talkers drawing breath
    # together, a dropout): the gate must not take that frame for the room's level and drop.
    ears = SpeechEars(brain.phrases())
    room = hiss(8.0, 32767 * 10 ** (-35 / 20), seed=4)
    for start in range(SAMPLE_RATE, len(room), 2 * SAMPLE_RATE):
        room[start : start + FRAME_SAMPLES] = 0.0
    assert listen(ears, np.clip(room, -32768, 32767).astype(np.int16)) == []


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("Could you connect me to someone?", "connect"),
        ("When will you ship it?", "ship"),
        ("Thank you kindly.", "kindly"),
        ("It is running late.", "late"),
        ("Is there an update?", "update"),
        ("I got an email from you.", "from"),
        ("It says out for delivery.", "out"),
    ],
)
def test_everyday_words_of_a_service_call_are_heard(speech, brain, said, expected):
    pcm = espeak.synthesize(said).pcm
    quiet = np.zeros(SAMPLE_RATE // 2, dtype=np.int16)
    heard = recognizer.recognize(np.concatenate([quiet, pcm, quiet]), SAMPLE_RATE, brain.phrases())
    assert expected in heard.split(), heard


def test_each_word_of_a_final_turn_comes_with_how_sure_the_recogniser_is(speech, brain):
    ears = SpeechEars(brain.phrases())
    pcm = espeak.synthesize("Please check order four five six.").pcm
    quiet = np.zeros(SAMPLE_RATE // 2, dtype=np.int16)
    (final,) = [h for h in listen(ears, np.concatenate([quiet, pcm, quiet])) if h.final]
    assert len(final.confidence) == len(final.words.split()), final
    assert all(0.0 <= p <= 1.0 for p in final.confidence)
    assert final.confidence[final.words.split().index("order")] > 0.5, final


def test_a_burst_shown_while_it_lasted_is_told_to_its_end_even_in_a_noisy_room(speech, brain):
    # The listener showed the turn ("…", the visitor took the floor over the assistant) before the ears gave
    # any of it: its end must come, or the transcript would keep a line open.
    ears = SpeechEars(brain.phrases())
    room = 32767 * 10 ** (-45 / 20)
    before = listen(ears, np.clip(hiss(4.0, room, seed=2), -32768, 32767).astype(np.int16))
    burst = np.clip(hiss(0.15, room * 10, seed=1), -32768, 32767).astype(np.int16)
    heard = listen(ears, burst[: len(burst) // 2])
    ears.shown()
    heard += listen(ears, burst[len(burst) // 2 :])
    heard += listen(ears, np.clip(hiss(1.0, room, seed=3), -32768, 32767).astype(np.int16))
    assert before == [] and [(h.final, h.words) for h in heard] == [(True, "")], heard
