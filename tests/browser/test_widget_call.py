"""The widget in Chromium and Firefox against the example app and its sandbox: whole calls, and how each
one ends.

Every test drives the built widget (flask_hms_webcall/static) through the page the example app serves, with
the real livekit-client talking WebRTC to the sandbox over loopback.
"""

from __future__ import annotations

import json

import pytest

from flask_hms_webcall.sandbox.config import DEFAULT_FIRST_MESSAGE
from tests.browser.conftest import open_widget, screenshot_path, turns, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


@pytest.mark.engines("chromium", "firefox")
def test_full_call_transcripts_hang_up_and_report(browser, engine, app, artifacts_dir):
    context, widget = open_widget(browser, f"{app.url}/", init_scripts=turns(engine))
    page = widget.page
    chunks = []
    page.on("request", lambda r: chunks.append(r.url) if "/hms/static/call-" in r.url else None)

    # Idle: only the loader is on the page; the call code comes on the first sign of intent.
    launcher = widget.part("launcher")
    assert launcher.inner_text() == "Talk to AI"
    widget.screenshot(screenshot_path(artifacts_dir, "widget-idle", engine))
    page.wait_for_timeout(300)
    assert chunks == [], "the call chunk must not load before the visitor shows intent"
    launcher.hover()
    wait_for(lambda: chunks, timeout=10, what="the call chunk to load on hover")

    launcher.click()
    widget.wait_state("live", timeout=20)
    assert widget.part("status").inner_text() == "Connected"
    assert widget.part("timer").is_visible()

    # Both sides reach the transcript: the assistant's greeting, then what the sandbox "heard".
    wait_for(
        lambda: {e["role"] for e in widget.transcript() if e["final"]} >= {"user", "assistant"},
        timeout=25,
        what="final transcript lines from the user and the assistant",
    )
    widget.screenshot(screenshot_path(artifacts_dir, "widget-live", engine))

    # Segments arrive interim first and are replaced by their final text, under the same segment id.
    updates = [e["entry"] for e in widget.events("transcript") if e["entry"]]
    interim_then_final = {
        u["id"] for u in updates if not u["final"] and any(v["id"] == u["id"] and v["final"] for v in updates)
    }
    assert interim_then_final, json.dumps(updates)[:2000]
    user_lines = widget.part("entry-user")
    assistant_lines = widget.part("entry-assistant")
    assert user_lines.count() >= 1 and assistant_lines.count() >= 1
    assert DEFAULT_FIRST_MESSAGE in assistant_lines.first.inner_text()
    # The transcript region is announced politely to screen readers.
    assert widget.part("transcript").get_attribute("aria-live") == "polite"

    # The assistant's audio is rendered: an <audio> element inside the widget, playing.
    assert page.evaluate(
        """(sel) => [...document.querySelector(sel).shadowRoot.querySelectorAll('audio')]
                   .some((a) => !a.paused && a.srcObject && a.srcObject.getAudioTracks().length)""",
        widget.selector,
    )

    # Auto-scroll follows new lines until the reader scrolls up to read back; then it leaves them be.
    page.add_style_tag(content="hms-webcall { --hms-transcript-height: 50px }")
    transcript = widget.part("transcript")
    page.wait_for_timeout(200)
    assert transcript.evaluate("(el) => el.scrollHeight > el.clientHeight")
    transcript.evaluate("(el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
    seen = len(widget.transcript())
    wait_for(lambda: len(widget.transcript()) > seen, timeout=15, what="another transcript line")
    assert transcript.evaluate("(el) => el.scrollTop") == 0

    assert widget.live_mic_tracks() == 1
    widget.part("hangup").click()
    widget.wait_state("ended", timeout=10)
    ended = widget.events("ended")
    assert [e["reason"] for e in ended] == ["user_hangup"]
    # The microphone is let go (the browser's recording indicator goes off).
    wait_for(lambda: widget.live_mic_tracks() == 0, timeout=5, what="the microphone to be released")
    assert widget.message() == "You ended the call."
    # The transcript stays readable after the call, with a copy button.
    assert widget.part("entry").count() == len(widget.transcript())
    assert widget.part("entry-interim").count() == 0
    assert widget.part("copy").is_visible()
    assert widget.states()[:4] == ["preflight", "requesting", "connecting", "live"]

    # The sandbox ended the call as a user hang-up, and the report reaches the Calls page by webhook.
    call_id = ended[0]["callId"]
    calls = wait_for(
        lambda: [c for c in app.sandbox_calls() if c["call_id"] == call_id and c["status"] == "ended"],
        timeout=10,
        what="the sandbox to end the call",
    )
    assert calls[0]["ended_reason"] == "user_hangup"

    def report_shown():
        page.goto(f"{app.url}/calls")
        row = page.locator(f'li.call[data-call-id="{call_id}"]')
        return row.count() and "user hangup" in row.inner_text() and row.locator("details.transcript").count()

    wait_for(report_shown, timeout=15, what="the end-of-call report on the Calls page")
    context.close()


def test_expired_token_is_retried_once_with_a_fresh_one(chromium, example_app_factory, widget_built):
    # The call whose token expired was never joined, yet holds its slot until HMS deletes the room (60 s):
    # with the default of one call per visitor, the fresh one would be refused as too_many_calls.
    app = example_app_factory(env={"FLASK_HMS_MAX_CALLS_PER_USER": "2"})
    app.sandbox_control("POST", "/_sandbox/faults", json={"expire_next_tokens": 1})
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live", "error", timeout=25)
    assert widget.state == "live", widget.events("error")
    assert app.sandbox_stats()["create_requests"] == 2
    assert "error" not in widget.states()
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


def test_assistant_never_joins(chromium, example_app_factory, widget_built):
    app = example_app_factory(sandbox_args=["--agent-join-delay", "never"])
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.set(agent_timeout="3")
    widget.part("launcher").click()
    widget.wait_state("connecting")
    widget.wait_text("status", "^Waiting for the assistant")
    widget.wait_state("ended", timeout=15)
    assert [e["reason"] for e in widget.events("ended")] == ["agent_timeout"]
    assert "live" not in widget.states()
    assert widget.message() == "The assistant didn't join the call. Please try again in a moment."
    assert widget.part("retry").inner_text() == "Call again"
    context.close()


def test_assistant_hangs_up(chromium, example_app_factory, widget_built, tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"lines": [], "agent_hangup": True}))
    app = example_app_factory(sandbox_args=["--script", str(script)])
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.part("launcher").click()
    widget.wait_state("live")
    widget.wait_state("ended", timeout=20)
    assert [e["reason"] for e in widget.events("ended")] == ["agent_hangup"]
    assert widget.message() == "The assistant ended the call."
    wait_for(lambda: widget.live_mic_tracks() == 0, timeout=5, what="the microphone to be released")
    # What the assistant said before hanging up is still there to read.
    assert DEFAULT_FIRST_MESSAGE in widget.part("transcript").inner_text()
    context.close()


def test_max_duration(chromium, example_app_factory, widget_built):
    app = example_app_factory(sandbox_args=["--max-duration", "8"])
    context, widget = open_widget(chromium, f"{app.url}/")
    widget.set(max_duration="8")
    widget.part("launcher").click()
    widget.wait_state("live")
    # The limit is near from the start of an 8-second call: the timer counts down what is left.
    widget.wait_text("timer", r"^0:0\d left$", timeout=5)
    assert widget.part("status").inner_text().startswith("The call ends in")
    widget.wait_state("ended", timeout=20)
    assert [e["reason"] for e in widget.events("ended")] == ["max_duration"]
    assert widget.message() == "Time limit reached: calls last at most 8 s."
    context.close()


def test_end_while_the_call_code_loads_cancels_everything(chromium, app):
    # The first click comes before the call code is here: the widget asks for the microphone at once and
    # starts the call once the code arrives, unless end() (or leaving the page) cancelled it meanwhile.
    context, widget = open_widget(chromium, f"{app.url}/")
    page = widget.page
    held = []
    page.route("**/hms/static/call-*.js", lambda route: held.append(route))
    widget.part("launcher").click()
    wait_for(lambda: held, timeout=10, what="the call chunk to be requested")
    page.wait_for_function("window.__mics.length === 1")
    widget.host.evaluate("(el) => el.end()")
    held[0].continue_()
    page.wait_for_function("window.__hmsWebcallCall")
    page.wait_for_timeout(500)  # room for a call that should not start

    assert widget.state == "idle"
    assert widget.events() == []
    assert widget.live_mic_tracks() == 0
    assert widget.part("launcher").is_visible()
    assert widget.part("launcher").get_attribute("aria-busy") == "false"
    assert app.sandbox_stats()["create_requests"] == 0
    context.close()
