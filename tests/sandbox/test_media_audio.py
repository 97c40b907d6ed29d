"""The scripted assistant's voice and ears, without a network: speech timing and voice activity detection."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from flask_hms_webcall.sandbox.media.audio import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    SpeechTrack,
    VoiceActivityDetector,
    plan_speech,
)

LINE = "Thanks! Everything works: your microphone reaches me and my voice reaches you."


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)


def feed_in_frames(vad: VoiceActivityDetector, pcm: np.ndarray) -> list:
    events = []
    for offset in range(0, len(pcm), FRAME_SAMPLES):
        events += vad.feed(pcm[offset : offset + FRAME_SAMPLES])
    return events


def test_a_line_takes_about_as_long_as_saying_it_and_its_words_come_in_order():
    plan = plan_speech(LINE)
    assert plan.text == LINE
    words_per_second = len(plan.words) / plan.duration
    assert 1.8 <= words_per_second <= 3.2
    starts = [w.start for w in plan.words]
    assert starts == sorted(starts) and starts[0] == 0
    assert len(plan.pcm) == pytest.approx(plan.duration * SAMPLE_RATE, abs=1)


def test_nothing_to_say_is_silence():
    plan = plan_speech("   ")
    assert plan.words == () and plan.duration == 0


def test_the_detector_hears_a_spoken_line_once_for_about_its_length():
    plan = plan_speech(LINE)
    events = feed_in_frames(VoiceActivityDetector(), np.concatenate([silence(0.5), plan.pcm, silence(1.0)]))
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("end") == 1
    assert set(kinds[1:-1]) <= {"progress"}
    spoken = plan.words[-1].start + 0.3  # the last word's sound ends before the plan's trailing pause
    assert events[-1].duration == pytest.approx(spoken, abs=0.35)


def test_silence_and_faint_noise_are_not_speech():
    rng = np.random.default_rng(7)
    noise = (rng.standard_normal(SAMPLE_RATE * 3) * 60).astype(np.int16)  # about -55 dBFS
    assert feed_in_frames(VoiceActivityDetector(), np.concatenate([silence(2), noise])) == []


def test_a_beep_every_half_second_is_many_short_utterances_not_one_endless_one():
    # Chromium's fake microphone: a loud ~0.1 s beep every 0.5 s.
    t = np.arange(int(0.1 * SAMPLE_RATE)) / SAMPLE_RATE
    beep = (np.sin(2 * np.pi * 1000 * t) * 12000).astype(np.int16)
    period = np.concatenate([beep, silence(0.4)])
    events = feed_in_frames(VoiceActivityDetector(), np.tile(period, 6))
    ends = [e for e in events if e.kind == "end"]
    assert len(ends) >= 5
    assert all(0.05 <= e.duration <= 0.2 for e in ends)


def test_the_voice_track_plays_a_plan_at_its_slot_and_is_silent_otherwise():
    async def scenario():
        track = SpeechTrack("TR_test")
        assert track.id == "TR_test"
        quiet = await track.recv()
        assert quiet.sample_rate == SAMPLE_RATE and quiet.samples == FRAME_SAMPLES
        assert not quiet.to_ndarray().any()
        plan = plan_speech("Hello there")
        track.play(plan)
        loud = 0
        for _ in range(int(plan.duration * 50) + 5):
            loud += bool(np.abs((await track.recv()).to_ndarray()).max() > 1000)
        track.stop()
        return loud, plan

    # In a thread of its own: Playwright's sync API may keep an event loop running on this one.
    with ThreadPoolExecutor(1) as pool:
        loud, plan = pool.submit(asyncio.run, scenario()).result()
    assert loud >= plan.duration * 50 * 0.6  # most 20 ms frames of the utterance carry the voice
