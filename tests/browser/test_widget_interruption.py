"""The visitor talks over the assistant's answer in the widget: the widget shows the answer's line cut where
the assistant stopped (its final text replacing the words streamed so far, nothing left over) and the
assistant back to listening.

Chromium's fake microphone plays a WAV made with the sandbox's voice (as in test_sandbox_speech.py):
silence while the assistant greets, a question whose answer is long, then, while it is being read out,
something else said over it.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import SAMPLE_RATE
from tests.browser.conftest import open_widget, wait_for
from tests.conftest import require

pytestmark = pytest.mark.browser

QUESTION = "What are your opening hours?"
ANSWER = "We are open Monday to Friday from nine to five, and on Saturday from ten to two."
OVER = "Can I speak to a person?"
OVER_ANSWERED = "I am the sandbox assistant"
BEFORE_QUESTION = 12.0  # the greeting (about 4.5 s) is over, even on a slow machine
# The answer starts within a second or so of the question's end and lasts about 5 s: this far in, it is
# being read out, with time left for the interruption to land before its last words on a loaded machine.
BEFORE_OVER = 2.0


def speech_wav(path: Path) -> Path:
    def quiet(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)

    pcm = np.concatenate(
        [
            quiet(BEFORE_QUESTION),
            espeak.synthesize(QUESTION).pcm,
            quiet(BEFORE_OVER),
            espeak.synthesize(OVER).pcm,
            quiet(15.0),
        ]
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


@pytest.fixture
def interrupting_chromium(launch_chromium, tmp_path):
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")
    wav = speech_wav(tmp_path / "visitor.wav")
    return launch_chromium(extra=(f"--use-file-for-fake-audio-capture={wav}%noloop",))


def test_the_widget_shows_the_answer_cut_where_the_visitor_spoke_over_it(
    interrupting_chromium, example_app_factory, widget_built, artifacts_dir
):
    app = example_app_factory()
    context, widget = open_widget(interrupting_chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)

    def answered_over():
        return any(e["role"] == "assistant" and OVER_ANSWERED in e["text"] for e in widget.transcript())

    wait_for(answered_over, timeout=BEFORE_QUESTION + BEFORE_OVER + 30, what="the answer to what came over")
    widget.screenshot(artifacts_dir / "widget-interrupted.png")

    entries = widget.transcript()
    cut = [e for e in entries if e["role"] == "assistant" and ANSWER[:20] in e["text"]]
    # One entry for the answer: final, the words played before the visitor spoke over it, nothing more (at
    # least its last three words, "ten to two.", are missing).
    assert len(cut) == 1, entries
    assert cut[0]["final"] and ANSWER.startswith(cut[0]["text"]) and len(cut[0]["text"]) < len(ANSWER) - 10
    assert any(e["role"] == "user" and "person" in e["text"] for e in entries), entries
    # The widget showed the assistant back to listening between the cut answer and the next one.
    states = [e["state"] for e in widget.events("agent-state")]
    spoke = [i for i, s in enumerate(states) if s == "speaking"]
    assert len(spoke) >= 3, states  # greeting, the answer, the answer to what was said over it
    assert "listening" in states[spoke[1] : spoke[2]], states
    context.close()
