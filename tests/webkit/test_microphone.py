"""Consent and the microphone in WebKit: the consent text before the microphone, a microphone refused, and
none at all; each from WebKit's own answers, with nothing created on the server.

These run past the widget's WebRTC check, which Debian's WebKitGTK fails (test_unsupported.py): the page
gets a stand-in RTCPeerConnection (PRETEND_WEBRTC), and the create request is held in the page (HOLD_CREATE)
so that the stand-in is never used.

Refusing the microphone: WebKitWebDriver has no command to set a permission, and MiniBrowser's prompt is a
GTK dialog WebDriver cannot answer. A frame whose permissions policy leaves the microphone out
(``allow="microphone 'none'"``) gets the very refusal a visitor's "Don't allow" gives: NotAllowedError,
without a prompt.
"""

from __future__ import annotations

from tests.conftest import require
from tests.webkit.conftest import (
    HOLD_CREATE,
    PRETEND_WEBRTC,
    WEBKIT_MARKS,
    open_widget,
    press,
    tab_to,
    wait_for,
    widget_in_page,
)

pytestmark = WEBKIT_MARKS

# The site's page in a frame of its own origin (srcdoc: the example app's pages may not be framed).
FRAMED_PAGE = """<!doctype html><html lang="en"><body><hms-webcall id="hero-call"></hms-webcall>
<script src="/hms/widget.js" data-launcher="false"></script></body></html>"""
TEXT = "Calls are recorded and transcribed to help us improve."


def test_consent_before_the_microphone_then_remembered(launch_webkit, example_app_factory):
    app = example_app_factory(env={"FLASK_HMS_REQUIRE_CONSENT": "2"})
    driver = launch_webkit()
    widget = open_widget(driver, f"{app.url}/", PRETEND_WEBRTC, HOLD_CREATE)
    widget.set(consent=TEXT, consent_version="2")

    # Keyboard only: Tab to the launcher, Enter; the box has focus, Space ticks it, Tab on to start.
    tab_to(widget)
    press(driver, "ENTER")
    wait_for(lambda: widget.visible("consent"), what="the consent text")
    assert widget.js("return root.querySelector('[part~=consent-text]').innerText.trim();") == TEXT
    assert driver.execute_script("return window.__mics") == 0, (
        "the microphone is asked for only after consent"
    )
    assert widget.state == "idle"
    assert widget.js("return root.querySelector('[part~=consent-start]').disabled;") is True
    assert widget.focused_part() == "consent-check"
    press(driver, "SPACE")
    wait_for(
        lambda: widget.js("return root.querySelector('[part~=consent-start]').disabled;") is False,
        what="the start button enabled by the ticked box",
    )
    tab_to(widget, "consent-start")
    press(driver, "ENTER")

    widget.wait_state("requesting")
    assert driver.execute_script("return window.__mics") == 1
    assert driver.execute_script("return window.__creates") == [{"consent": "2"}]
    assert widget.events("consent") == [{"version": "2", "accepted": True}]
    assert driver.execute_script("return localStorage.getItem('hms-webcall:consent')") == "2"
    widget.js("el.end();")
    widget.wait_state("idle")

    # Another page of the same site, later: agreed already, so the click goes straight to the call.
    widget = open_widget(driver, f"{app.url}/", PRETEND_WEBRTC, HOLD_CREATE)
    widget.set(consent=TEXT, consent_version="2")
    widget.click("launcher")
    widget.wait_state("requesting")
    assert not widget.visible("consent")
    assert widget.events("consent") == []
    assert driver.execute_script("return window.__creates") == [{"consent": "2"}]
    widget.js("el.end();")
    assert app.sandbox_stats()["create_requests"] == 0


def test_microphone_refused_creates_no_call(launch_webkit, example_app_factory, artifacts_dir):
    app = example_app_factory()
    driver = launch_webkit()
    driver.get(f"{app.url}/")
    frame = driver.execute_script(
        """const frame = document.createElement('iframe');
        frame.srcdoc = arguments[0]; frame.allow = "microphone 'none'";
        frame.style.cssText = 'width: 900px; height: 700px; border: 0';
        document.body.replaceChildren(frame);
        return frame;""",
        FRAMED_PAGE,
    )
    driver.switch_to.frame(frame)
    widget = widget_in_page(driver, PRETEND_WEBRTC)
    widget.click("launcher")
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["mic_denied"]
    message = widget.message()
    assert "Microphone access is blocked for this site." in message
    # How to fix it in this browser's terms (WebKit's user agent says Safari), and a retry.
    assert "Settings for this website" in message and "Allow" in message
    assert widget.visible("retry")
    assert widget.states() == ["preflight", "error"]
    widget.screenshot(artifacts_dir / "webkit-mic-denied.png")
    assert app.sandbox_stats()["create_requests"] == 0


def test_no_microphone_creates_no_call(launch_webkit, example_app_factory):
    app = example_app_factory()
    driver = launch_webkit(mock_microphone=False)
    widget = open_widget(driver, f"{app.url}/", PRETEND_WEBRTC)
    has_input = driver.execute_async_script(
        "const done = arguments[0]; navigator.mediaDevices.enumerateDevices()"
        ".then((d) => done(d.some((x) => x.kind === 'audioinput')), () => done(false));"
    )
    require(not has_input, "this machine has a real microphone, so 'no microphone' cannot be shown")
    tab_to(widget)
    press(driver, "ENTER")
    widget.wait_state("error")
    assert [e["code"] for e in widget.events("error")] == ["no_mic"]
    assert widget.message() == "No microphone found. Connect one, then try again."
    assert widget.focused_part() == "retry", "keyboard focus stays in the widget, on the way forward"
    assert app.sandbox_stats()["create_requests"] == 0
