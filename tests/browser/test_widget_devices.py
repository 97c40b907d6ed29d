"""Microphone and speaker choice with Chromium's fake devices (three microphones, three speakers): chosen
by keyboard, switched mid-call without dropping it, remembered for the next call."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import Widget, open_widget, wait_for

pytestmark = pytest.mark.browser

# Keeps every RTCPeerConnection the page makes (observed, not changed), to see what it sends.
PC_RECORDER = """
window.__pcs = [];
const PC = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) {
  const pc = new PC(...args);
  window.__pcs.push(pc);
  return pc;
};
window.RTCPeerConnection.prototype = PC.prototype;
Object.setPrototypeOf(window.RTCPeerConnection, PC);
"""
DEVICE_EVENTS = (
    "window.__dev = []; document.addEventListener('hms:device-change', (e) => __dev.push(e.detail));"
)


@pytest.fixture
def app(example_app_factory, widget_built):
    return example_app_factory()


def live_mic_labels(widget: Widget) -> list[str]:
    return widget.page.evaluate(
        "window.__mics.flatMap((s) => s.getAudioTracks())"
        ".filter((t) => t.readyState === 'live').map((t) => t.label)"
    )


def sent_mic_labels(widget: Widget) -> list[str]:
    """The labels of the audio tracks the call's WebRTC connections actually send."""
    return widget.page.evaluate(
        "window.__pcs.flatMap((pc) => pc.getSenders()).filter((s) => s.track && s.track.kind === 'audio')"
        ".map((s) => s.track.label)"
    )


@pytest.mark.engines(
    "chromium",
    "firefox",
    skip={
        "firefox": "Firefox's fake media (media.navigator.streams.fake) has one microphone, none to switch to"
    },
)
def test_switch_microphone_mid_call_and_remember_it(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    context.add_init_script(PC_RECORDER)
    page.reload()
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    page.evaluate(DEVICE_EVENTS)
    widget.part("launcher").click()
    widget.wait_state("live")
    # Live comes as the assistant can be heard; the microphone is published alongside, within moments.
    wait_for(lambda: sent_mic_labels(widget) == ["Fake Default Audio Input"], timeout=10, what="the mic sent")
    wait_for(lambda: widget.transcript(), timeout=20, what="the first transcript line")

    mic = widget.part("mic-select")
    mic.wait_for(state="visible")
    labels = mic.locator("option").all_inner_texts()
    assert len(labels) >= 2 and "Fake Audio Input 1" in labels
    assert live_mic_labels(widget) == ["Fake Default Audio Input"]
    # The select's accessible name comes from its label (and the microphone's level meter is not it).
    assert widget.host.get_by_label(re.compile("^Microphone")).count() == 1

    # Keyboard only: focus the select and step to another microphone.
    mic.focus()
    target = "Fake Audio Input 1"
    while mic.evaluate("(el) => el.selectedOptions[0].text") != target:
        page.keyboard.press("ArrowDown")
    wait_for(
        lambda: live_mic_labels(widget) == [target], timeout=10, what="the call to use the new microphone"
    )

    # The call went on: no state change, the same call, the transcript keeps growing.
    assert widget.states() == ["preflight", "requesting", "connecting", "live"]
    seen = len(widget.transcript())
    wait_for(lambda: len(widget.transcript()) > seen, timeout=20, what="more transcript after the switch")
    events = page.evaluate("window.__dev")
    assert events[-1]["kind"] == "audioinput" and events[-1]["label"] == target
    chosen = events[-1]["deviceId"]
    assert page.evaluate("localStorage.getItem('hms-webcall:mic')") == chosen
    # The published track is the new microphone: the room's sender sends it.
    assert sent_mic_labels(widget) == [target]
    # The visitor's level meter follows the new microphone (the old one is stopped, hence silent).
    page.wait_for_function(
        "(sel) => Number(document.querySelector(sel).shadowRoot"
        ".querySelector('[part~=meter-user]').getAttribute('aria-valuenow')) > 0",
        arg=widget.selector,
        timeout=10_000,
    )

    widget.part("hangup").click()
    widget.wait_state("ended")
    wait_for(lambda: live_mic_labels(widget) == [], timeout=5, what="the microphone to be released")
    # Between calls the choice stays on offer, and the next call opens the remembered microphone.
    assert mic.is_visible()
    assert mic.evaluate("(el) => el.selectedOptions[0].text") == target
    page.reload()
    page.wait_for_function("document.querySelector('#hero-call')?.shadowRoot")
    widget.part("launcher").click()
    widget.wait_state("live")
    assert live_mic_labels(widget) == [target]
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


@pytest.mark.engines("chromium", "firefox")
def test_speaker_choice(browser, app):
    context, widget = open_widget(browser, f"{app.url}/")
    page = widget.page
    page.evaluate(DEVICE_EVENTS)
    widget.part("launcher").click()
    widget.wait_state("live")
    speaker = widget.part("speaker-select")
    speaker.wait_for(state="visible")
    # Another speaker than the one playing (Chromium's fake ones, or the test's second PulseAudio sink).
    current = speaker.evaluate("(el) => el.selectedOptions[0].text")
    other = next(label for label in speaker.locator("option").all_inner_texts() if label != current)
    speaker.select_option(label=other)
    chosen = page.evaluate("localStorage.getItem('hms-webcall:speaker')")
    assert chosen and chosen != "default"
    # The assistant's audio element plays on the chosen speaker.
    wait_for(
        lambda: page.evaluate(
            """([sel, id]) => [...document.querySelector(sel).shadowRoot.querySelectorAll('audio')]
                 .some((a) => a.sinkId === id)""",
            [widget.selector, chosen],
        ),
        timeout=5,
        what="the audio to play on the chosen speaker",
    )
    assert page.evaluate("window.__dev")[-1]["kind"] == "audiooutput"
    widget.part("hangup").click()
    widget.wait_state("ended")
    context.close()


@pytest.mark.engines(
    "chromium",
    "firefox",
    skip={
        "firefox": "Firefox's microphone question cannot be answered over WebDriver BiDi (Playwright "
        "1.64): a context's permissions leave it open, and launch prefs allow or refuse without asking"
    },
)
def test_choice_before_the_call_only_once_the_microphone_is_allowed(launch_browser, app):
    # A browser that really asks (no fake prompt): until the site may use the microphone, the browser
    # hides the devices' names, so the consent screen offers no choice; once allowed, it does.
    browser = launch_browser(microphone="prompt")
    for permissions, offered in (([], False), (["microphone"], True)):
        context, widget = open_widget(browser, f"{app.url}/", permissions=permissions)
        widget.set(consent="Calls are recorded.")
        widget.part("launcher").click()
        widget.part("consent").wait_for(state="visible")
        if offered:
            widget.part("mic-select").wait_for(state="visible")
        else:
            widget.page.wait_for_timeout(300)
        assert widget.part("devices").is_visible() is offered
        assert widget.page.evaluate("window.__mics.length") == 0
        context.close()
