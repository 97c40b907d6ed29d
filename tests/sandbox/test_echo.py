"""The assistant listens while it speaks: its own voice coming back is not heard, the visitor's voice over it
is (media/echo.py and media/listener.py, fed frame by frame without a network)."""

from __future__ import annotations

import numpy as np
import pytest

from flask_hms_webcall.sandbox.brain import DEFAULT_RULES, Brain, parse_rules
from flask_hms_webcall.sandbox.calls import Call
from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import FRAME_SAMPLES, SAMPLE_RATE, VAD_THRESHOLD
from flask_hms_webcall.sandbox.media.ears import EnergyEars, SpeechEars
from flask_hms_webcall.sandbox.media.echo import EchoGuard
from flask_hms_webcall.sandbox.media.listener import MIN_INTERRUPTION_SECONDS, Listener
from tests.conftest import require

GREETING = "Hello! This is the sandbox assistant. How can I help you today?"
ANSWER = "We are open Monday to Friday from nine to five, and on Saturday from ten to two."
INTERRUPTION = "Can I speak to a person?"
NETWORK = 0.1  # seconds both ways on top of the speaker's delay


@pytest.fixture(scope="module")
def voice():
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    return espeak.synthesize(GREETING).pcm, espeak.synthesize(ANSWER).pcm


class Floor:
    """The assistant's side: speaking until its line is over or it yields."""

    def __init__(self, *, yields: bool = True) -> None:
        self.yields = yields
        self.present = True
        self.now = 0.0
        self.until = 0.0
        self.interrupted_at: float | None = None

    @property
    def speaking(self) -> bool:
        return self.interrupted_at is None and self.now < self.until

    def interrupt(self) -> bool:
        if self.yields and self.speaking:
            self.interrupted_at = self.now
        return self.yields or not self.speaking


class Link:
    user_identity = "web-user"
    user_track_sid = "TR_user"

    def __init__(self) -> None:
        self.packets: list[bytes] = []

    def send_data(self, packet: bytes) -> None:
        self.packets.append(packet)


def converse(
    lines, *, echo_delay: float, echo_db: float | None, visitor=None, visitor_at=0.0, yields=True, ears=None
):
    """The assistant says ``lines`` one after the other (a second apart); the microphone hears them back
    ``echo_delay`` (+ the network) later at ``echo_db`` (None: no echo), plus ``visitor`` speaking from
    ``visitor_at`` seconds. Returns (floor, turns, link)."""
    gap = np.zeros(SAMPLE_RATE, dtype=np.int16)
    played = np.concatenate([part for line in lines for part in (line, gap)] + [gap, gap])
    lag = int((echo_delay + NETWORK) * SAMPLE_RATE)
    mic = np.zeros(len(played), dtype=np.float64)
    if echo_db is not None:
        mic[lag:] += played[: len(played) - lag] * 10 ** (echo_db / 20)
    if visitor is not None:
        at = int(visitor_at * SAMPLE_RATE)
        mic[at : at + len(visitor)] += visitor[: len(mic) - at]
    mic += np.random.default_rng(3).standard_normal(len(mic)) * 30  # a quiet room
    mic = np.clip(mic, -32768, 32767).astype(np.int16)

    floor = Floor(yields=yields)
    turns = []
    link = Link()
    guard = EchoGuard()
    listener = Listener(
        call=Call(call_id="c", room_name="r", identity="u", assistant={}),
        link=link,
        floor=floor,
        guard=guard,
        on_turn=turns.append,
    )
    listener.use(ears or EnergyEars())
    starts, t = [], 0.0
    for line in lines:
        starts.append((t, t + len(line) / SAMPLE_RATE))
        t += (len(line) + len(gap)) / SAMPLE_RATE
    for k in range(len(played) // FRAME_SAMPLES):
        now = k * FRAME_SAMPLES / SAMPLE_RATE
        floor.now = now
        floor.until = next((end for start, end in starts if start <= now < end), 0.0)
        out = played[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES]
        if floor.interrupted_at is None or now < floor.interrupted_at:
            guard.played(now, out, SAMPLE_RATE)
        listener.feed(mic[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES], SAMPLE_RATE, now)
    return floor, turns, link


@pytest.mark.parametrize("echo_delay", [0.05, 0.15, 0.3])
@pytest.mark.parametrize("echo_db", [-10.0, -6.0])
def test_the_assistants_own_voice_coming_back_is_not_heard(voice, echo_delay, echo_db):
    floor, turns, link = converse(voice, echo_delay=echo_delay, echo_db=echo_db)
    assert floor.interrupted_at is None, "its own echo interrupted the assistant"
    assert turns == [] and link.packets == [], "its own echo was heard as the visitor's words"


def test_silence_and_room_noise_are_not_heard_either(voice):
    floor, turns, link = converse(voice, echo_delay=0.15, echo_db=None)
    assert floor.interrupted_at is None and turns == [] and link.packets == []


@pytest.mark.parametrize("echo_db", [None, -10.0])
def test_the_visitor_speaking_over_the_voice_interrupts_it_and_is_heard(voice, echo_db):
    greeting, answer = voice
    over = espeak.synthesize(INTERRUPTION).pcm
    answer_starts = (len(greeting) + SAMPLE_RATE) / SAMPLE_RATE
    floor, turns, link = converse(
        voice, echo_delay=0.15, echo_db=echo_db, visitor=over, visitor_at=answer_starts + 1.0
    )
    assert floor.interrupted_at is not None, "the visitor's speech did not interrupt the assistant"
    assert answer_starts + 1.0 < floor.interrupted_at < answer_starts + 2.0
    assert len(turns) == 1 and turns[0].final, turns
    assert link.packets, "the visitor's turn was not transcribed"


def test_speech_that_may_not_interrupt_and_ends_under_the_voice_is_not_a_turn(voice):
    greeting, answer = voice
    over = espeak.synthesize(INTERRUPTION).pcm
    answer_starts = (len(greeting) + SAMPLE_RATE) / SAMPLE_RATE
    floor, turns, link = converse(
        voice, echo_delay=0.15, echo_db=None, visitor=over, visitor_at=answer_starts + 1.0, yields=False
    )
    assert floor.interrupted_at is None
    assert turns == [] and link.packets == []


def test_over_the_voice_the_visitor_takes_the_floor_before_the_recogniser_names_a_word(voice):
    # The recogniser's first word comes half a second or more into the speech; the assistant yields once
    # the visitor has spoken MIN_INTERRUPTION_SECONDS (on this test's own clock, not the machine's).
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")
    greeting, answer = voice
    over = espeak.synthesize(INTERRUPTION).pcm
    answer_starts = (len(greeting) + SAMPLE_RATE) / SAMPLE_RATE
    onset = answer_starts + 1.0 + np.argmax(np.abs(over) > VAD_THRESHOLD) / SAMPLE_RATE
    ears = SpeechEars(Brain(parse_rules(DEFAULT_RULES)).phrases())
    floor, turns, link = converse(
        voice, echo_delay=0.15, echo_db=None, visitor=over, visitor_at=answer_starts + 1.0, ears=ears
    )
    assert floor.interrupted_at is not None, "the visitor's speech did not interrupt the assistant"
    assert floor.interrupted_at - onset <= MIN_INTERRUPTION_SECONDS + 0.1, floor.interrupted_at - onset
    assert len(turns) == 1 and "person" in turns[0].words.split(), turns
