"""A spoken call, end to end: Chromium's microphone plays synthesised speech to the example app's sandbox.

Chromium's fake capture device plays a WAV file (``--use-file-for-fake-audio-capture``) made with the
sandbox's voice: silence while the assistant greets, a question in the visitor's own words (not one of the
rules' phrases, the number grouped as people say it), silence while it looks the order up and answers, then
"goodbye". The file starts playing when the widget opens the microphone (before the call is created), so
each silence leaves the assistant ample time (here the visitor never talks over it, as
test_widget_interruption.py does). The real sandbox recognises the words, calls the example app's
``lookup_order`` tool over a signed ``tool-calls`` webhook, reads the answer out and hangs up.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from flask_hms_webcall.sandbox.media import espeak, recognizer
from flask_hms_webcall.sandbox.media.audio import SAMPLE_RATE
from tests.browser.conftest import open_widget, wait_for
from tests.conftest import require

pytestmark = pytest.mark.browser

QUESTION = "Hi, could you tell me where my order one twenty three is?"
GOODBYE = "Goodbye!"
ANSWER = "Order 123 is shipped, and arrives tomorrow."  # the example app's sample order, through the rule
# Seconds of silence before each line. The greeting (about 4.5 s) must be over before the question, and
# the answer (a webhook round trip and about 3 s of speech) and its echo window (3 s) before the goodbye,
# even on a slow machine: with 10 s, twice in five CI runs the call did not end after the goodbye.
BEFORE_QUESTION = 12.0
BEFORE_GOODBYE = 14.0


def speech_wav(path: Path) -> Path:
    def quiet(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.int16)

    pcm = np.concatenate(
        [
            quiet(BEFORE_QUESTION),
            espeak.synthesize(QUESTION).pcm,
            quiet(BEFORE_GOODBYE),
            espeak.synthesize(GOODBYE).pcm,
            quiet(10.0),
        ]
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm.tobytes())
    return path


@pytest.fixture
def speaking_chromium(launch_chromium, tmp_path):
    require(espeak.available(), "espeakng-loader is not installed (pip install -e .[sandbox-speech])")
    require(recognizer.available(), "pocketsphinx is not installed (pip install -e .[sandbox-speech])")
    wav = speech_wav(tmp_path / "visitor.wav")
    # %noloop: the file plays once, then the microphone is silent (a loop would ask the question again).
    return launch_chromium(extra=(f"--use-file-for-fake-audio-capture={wav}%noloop",))


def test_a_visitor_asks_for_an_order_hears_the_tools_answer_and_says_goodbye(
    speaking_chromium, example_app_factory, widget_built, artifacts_dir
):
    app = example_app_factory()
    context, widget = open_widget(speaking_chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live", timeout=20)

    # The visitor's words: interim text while they speak, then the final sentence under the same segment.
    def question():
        return [e for e in widget.transcript() if e["role"] == "user" and e["final"] and "order" in e["text"]]

    [asked] = wait_for(question, timeout=BEFORE_QUESTION + 20, what="the visitor's question, recognised")
    assert "twenty three" in asked["text"], asked
    updates = [
        e["entry"] for e in widget.events("transcript") if e["entry"] and e["entry"]["id"] == asked["id"]
    ]
    assert not updates[0]["final"] and updates[-1]["final"], json.dumps(updates)

    # The example app's tool answered, and the assistant read its answer out.
    wait_for(
        lambda: any(e["role"] == "assistant" and ANSWER in e["text"] for e in widget.transcript()),
        timeout=20,
        what="the assistant saying the tool's answer",
    )
    widget.screenshot(artifacts_dir / "widget-speech.png")

    # "Goodbye": the assistant hangs up.
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # where a browser test runs only

    try:
        widget.wait_state("ended", timeout=BEFORE_GOODBYE + 25)
    except PlaywrightTimeoutError:
        # What the sandbox heard and decided, for whoever reads the failure (its turns, floor, rules).
        said = [f"{e['role']}: {e['text']}" for e in widget.transcript()]
        sandbox = [line for line in app.output().splitlines() if "call " in line][-40:]
        pytest.fail("the call did not end after the goodbye\n" + "\n".join(said + ["--- sandbox:", *sandbox]))
    assert [e["reason"] for e in widget.events("ended")] == ["agent_hangup"]
    assert any(e["role"] == "user" and "goodbye" in e["text"] for e in widget.transcript())

    # The Calls page: the call, its end reason, and the tool call with its arguments and result.
    page = widget.page
    page.goto(f"{app.url}/calls")
    tool_call = page.locator("li.call li.tool-call")

    def reported():
        page.reload()
        return tool_call.count() and "agent hangup" in page.locator("li.call").first.inner_text()

    wait_for(reported, timeout=20, what="the call and its tool call on the Calls page")
    assert tool_call.locator(".tool-name").inner_text() == "lookup_order"
    assert json.loads(tool_call.locator(".tool-arguments").inner_text()) == {"order_id": "123"}
    assert "shipped" in tool_call.locator(".tool-result").inner_text()
    page.screenshot(path=str(artifacts_dir / "calls-tool-call.png"), full_page=True)

    # The tool call reached the example app as a signed `tool-calls` webhook, and was answered.
    deliveries = app.sandbox_control("GET", "/_sandbox/webhooks").json()
    tool_webhooks = [w for w in deliveries if w["event"] == "tool-calls"]
    assert [(w["delivered"], w["last_status"]) for w in tool_webhooks] == [(True, 200)], tool_webhooks

    # HMS's report: the tool call and its result among the messages, between the question and the answer.
    [call] = [c for c in app.sandbox_calls() if c["ended_reason"] == "agent_hangup"]
    tool_messages = [m for m in call["transcript"] if m.get("tool_calls") or m["role"] == "tool"]
    assert tool_messages[0]["tool_calls"][0]["function"] == {
        "name": "lookup_order",
        "arguments": {"order_id": "123"},
    }
    assert json.loads(tool_messages[1]["content"]) == {
        "order_id": "123",
        "status": "shipped, and arrives tomorrow",
    }
    context.close()
